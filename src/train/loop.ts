// The training loop: batches from a BatchSource, AdamW with clipping and a warm-up + decay
// schedule, periodic validation on a fixed slice of the validation split with the best weights
// kept at `out`, the full state saved to `latest` every `saveEvery` steps and when stopped, and
// one pass over the whole validation split at the end.
import { existsSync } from 'node:fs';
import type { Engine } from '../engine/engine-api.js';
import { UserError } from '../errors.js';
import type { ModelConfig } from '../model/config.js';
import { Weights, Workspace } from '../model/model.js';
import { countParams, initParams, paramLayout } from '../model/params.js';
import type { ModelFile, TrainingState } from '../model/serialize.js';
import { estimateIds, evaluateIds } from '../eval/evaluate.js';
import type { Vocab } from '../text/vocab.js';
import type { TokenizerKind } from '../text/tokenizer.js';
import { Rng } from '../rng.js';
import { batchSource, type Batching, type Ids } from './batch.js';
import { AdamW } from './optimizer.js';
import { learningRate, type Decay } from './schedule.js';
import { StepStats, type StepRecord } from './step-stats.js';

/** How often a run on a GPU reads its losses back to show them (a read stalls the device). */
const SHOW_EVERY_MS = 1000;

export interface TrainOptions {
  engine: Engine;
  config: ModelConfig;
  vocab: Vocab;
  /** Recorded in the checkpoint; absent means chars. */
  tokenizer?: TokenizerKind;
  train: Ids;
  val: Ids;
  corpus: string;
  batch: number;
  seq: number;
  batching: Batching;
  lr: number;
  minLr: number;
  /** How the rate falls after the warm-up; cosine when absent. */
  decay?: Decay;
  warmup: number;
  clip: number;
  weightDecay: number;
  /** Dropout probability on each layer's output. */
  dropout: number;
  /** DropConnect on the recurrent weights (classic cells); 0 when absent. */
  weightDrop?: number;
  /** Step budget (total, counting steps before a resume); with `seconds` too, whichever ends first. */
  steps?: number;
  /** Training-time budget in seconds (evaluations and saves not counted). */
  seconds?: number;
  seed: number;
  evalEvery: number;
  /** Characters of the validation split used by the periodic evaluations. */
  evalChars: number;
  /** Stop when this many evaluations in a row bring no improvement (0: never). */
  patience: number;
  /** The best checkpoint by validation loss. */
  out: string;
  /** The latest full training state, every `saveEvery` steps and when stopped. */
  latest: string;
  saveEvery: number;
  /** End this run after this many steps, as an interruption would (the schedule is unchanged). */
  stopAfter?: number;
  resume?: ModelFile;
  /** Recorded in the checkpoint's training state as they are (settings the caller owns). */
  meta?: Record<string, unknown>;
  save: (path: string, file: ModelFile) => Promise<void>;
  load: (path: string) => Promise<ModelFile>;
  /** Polled between steps: true ends the run after the current step, with a save. */
  shouldStop?: () => boolean;
  onEvent?: (ev: TrainEvent) => void;
}

export type TrainEvent =
  | { type: 'step'; step: number; loss: number; lr: number; gradNorm: number; charsPerSec: number; progress: number; elapsed: number }
  | { type: 'eval'; step: number; valLoss: number; best: boolean }
  | { type: 'saved'; step: number; path: string; kind: 'best' | 'latest' }
  | { type: 'save-failed'; step: number; path: string; message: string }
  | { type: 'final-eval'; chars: number; total: number };

export type StopReason = 'budget' | 'patience' | 'interrupted' | 'stop-after';

export interface TrainSummary {
  steps: number;
  params: number;
  backend: string;
  /** The simd kernels' build (relaxed or plain); null on other engines. */
  kernels: string | null;
  stopped: StopReason;
  train_loss: number;
  /** Whole-validation-split loss of the best weights; null when the run was interrupted. */
  val_loss: number | null;
  val_bpc: number | null;
  best_eval_loss: number | null;
  chars_per_sec: number;
  seconds: number;
  checkpoint: string;
  /** The latest-state checkpoint, or null when its last save failed. */
  latest: string | null;
}

export class TrainingDiverged extends UserError {}

interface Best { loss: number; step: number; file: ModelFile | null }

export async function train(o: TrainOptions): Promise<TrainSummary> {
  // Engine memory is not garbage-collected: what the run allocated goes back however it ends, so
  // an engine can carry one run after another (tests, sweeps) at flat memory.
  const held: { dispose(): void }[] = [];
  try {
    return await run(o, held);
  } finally {
    for (const h of held.reverse()) h.dispose();
  }
}

async function run(o: TrainOptions, held: { dispose(): void }[]): Promise<TrainSummary> {
  const e = o.engine, r = o.resume;
  const layout = paramLayout(o.config);
  let rng = new Rng(o.seed);
  const w = new Weights(e, o.config, r ? r.params : initParams(o.config, layout, rng));
  w.enableTraining(r?.m, r?.v);
  if (r) rng = Rng.fromState(r.training.rng);
  // Masks draw from their own stream, so turning dropout on or off leaves the batches as they were.
  const dropRng = r?.training.dropout_rng ? Rng.fromState(String(r.training.dropout_rng)) : new Rng(o.seed ^ 0x5bd1e995);
  const weightDrop = o.weightDrop ?? 0;
  const schedule = { lr: o.lr, minLr: o.minLr, warmup: o.warmup, decay: o.decay ?? 'cosine' } as const;
  const ws = new Workspace(w, o.batch, o.seq, true, o.dropout, { weightDrop });
  const data = batchSource(o.batching, o.train, o.batch, o.seq);
  const opt = new AdamW(w, { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: o.weightDecay, clip: o.clip });
  const stats = new StepStats(ws, opt);
  held.push(w, ws, opt, stats);
  const evalChars = Math.min(o.val.length, o.evalChars);
  const evalSeq = Math.min(o.seq, 128);
  // Many short streams make the periodic estimate fast; the final pass uses eval's defaults.
  const evalStreams = Math.max(1, Math.min(32, Math.floor(evalChars / (4 * evalSeq))));

  let step = r?.training.step ?? 0;
  let trainSeconds = r?.training.seconds ?? 0;
  let charsSeen = r?.training.chars_seen ?? 0;
  let evalsSinceBest = Number(r?.training.evals_since_best ?? 0);
  let best: Best | null = r && r.training.best_val_loss !== null ? { loss: r.training.best_val_loss, step: Number(r.training.best_step ?? step), file: null } : null;
  if (r) data.cursor = Number(r.training.cursor ?? 0);
  if (r && data.carriesState && r.extra) ws.writeState(r.extra);
  const startStep = step, startSeconds = trainSeconds, startChars = charsSeen;
  /** Throughput of this run alone (a resumed run's earlier steps ran elsewhere, at another speed). */
  const charsPerSec = () => (charsSeen - startChars) / Math.max(1e-9, trainSeconds - startSeconds);
  let recentLoss = r?.training.train_loss ?? NaN;
  const recent: number[] = [];

  const snapshot = async (extra: Partial<TrainingState> = {}): Promise<ModelFile> => ({
    config: o.config, vocab: o.vocab, tokenizer: o.tokenizer ?? 'chars', params: await e.read(w.params), m: await e.read(w.m!), v: await e.read(w.v!),
    extra: data.carriesState ? await ws.readState() : undefined,
    training: {
      step, best_val_loss: best?.loss ?? null, best_step: best?.step ?? null, val_loss: null, train_loss: recentLoss,
      chars_seen: charsSeen, seconds: trainSeconds, backend: e.name, ...(e.variant ? { kernels: e.variant } : {}), corpus: o.corpus, seed: o.seed, rng: rng.state(),
      dropout_rng: dropRng.state(), dropout: o.dropout, weight_drop: weightDrop,
      cursor: data.cursor, evals_since_best: evalsSinceBest, batching: o.batching, batch: o.batch, seq: o.seq,
      lr: o.lr, min_lr: o.minLr, decay: schedule.decay, warmup: o.warmup, clip: o.clip, weight_decay: o.weightDecay,
      planned_steps: o.steps ?? null, planned_seconds: o.seconds ?? null,
      ...o.meta,
      ...extra,
    },
  });
  /** Periodic saves may fail (full disk): the previous file stays, training goes on. */
  let latestSaved = false;
  const trySave = async (path: string, file: ModelFile, kind: 'best' | 'latest') => {
    try {
      await o.save(path, file);
      if (kind === 'latest') latestSaved = true;
      o.onEvent?.({ type: 'saved', step, path, kind });
    } catch (err) {
      if (kind === 'latest') latestSaved = false;
      o.onEvent?.({ type: 'save-failed', step, path, message: (err as Error).message });
    }
  };
  const validate = async () => {
    const res = await estimateIds(w, o.val, { chars: evalChars, seq: evalSeq, streams: evalStreams });
    const loss = res.nats / res.chars;
    const improved = best === null || loss < best.loss;
    if (improved) {
      evalsSinceBest = 0;
      best = { loss, step, file: null };
      best.file = await snapshot();
      await trySave(o.out, best.file, 'best');
    } else {
      evalsSinceBest++;
    }
    o.onEvent?.({ type: 'eval', step, valLoss: loss, best: improved });
  };

  const budgetDone = () => (o.steps !== undefined && step >= o.steps) || (o.seconds !== undefined && trainSeconds >= o.seconds);
  const progress = () => Math.max(o.steps !== undefined ? step / o.steps : 0, o.seconds !== undefined ? trainSeconds / o.seconds : 0);

  // A step's loss and gradient norm arrive when they are read (at once on the CPU engines; on a GPU
  // about once a second, and before anything is saved or evaluated): checked and reported then.
  const onRecord = (r: StepRecord): void => {
    // Worse than twice a uniform guess is as diverged as NaN: saturated gates keep an exploded
    // LSTM's loss finite.
    if (!Number.isFinite(r.loss) || !Number.isFinite(r.gradNorm) || r.loss > 2 * Math.log(o.config.vocab) + 5) {
      throw new TrainingDiverged(
        `training diverged at step ${r.step} (loss ${r.loss}, gradient norm ${r.gradNorm}); try a lower learning rate than --lr ${o.lr}` +
          // Name a file only if there is one: a best checkpoint whose save failed is not one.
          (existsSync(o.out) ? `; the last good checkpoint is untouched at ${o.out}` : '; no checkpoint was written'),
      );
    }
    recent.push(r.loss);
    if (recent.length > 20) recent.shift();
    recentLoss = recent.reduce((a, b) => a + b, 0) / recent.length;
    o.onEvent?.({ type: 'step', step: r.step, loss: r.loss, lr: r.lr, gradNorm: r.gradNorm, charsPerSec: charsPerSec(), progress: Math.min(1, progress()), elapsed: trainSeconds });
  };
  /** Every step's numbers in, before a save or an estimate (the waiting is training time). */
  const settle = async () => {
    const t0 = performance.now();
    const records = await stats.drain();
    trainSeconds += (performance.now() - t0) / 1000;
    for (const r of records) onRecord(r);
  };
  let shown = -Infinity;

  let stopped: StopReason = 'budget';
  while (!budgetDone()) {
    if (o.shouldStop?.()) { stopped = 'interrupted'; break; }
    if (o.stopAfter !== undefined && step - startStep >= o.stopAfter) { stopped = 'stop-after'; break; }
    const t0 = performance.now();
    const lr = learningRate(schedule, step, progress());
    if (data.next(rng) || !data.carriesState) ws.resetState();
    ws.setInputs(data.inputs, data.targets);
    ws.drawDropout(dropRng);
    ws.forward();
    ws.loss();
    ws.backward();
    await stats.update(step + 1, lr);
    if (data.carriesState) ws.carryState();
    step++;
    charsSeen += o.batch * o.seq;
    const t1 = performance.now();
    trainSeconds += (t1 - t0) / 1000;
    const show = t1 - shown >= SHOW_EVERY_MS;
    if (show) shown = t1;
    for (const r of stats.take(show)) onRecord(r);
    if (o.saveEvery > 0 && step % o.saveEvery === 0) {
      await settle();
      await trySave(o.latest, await snapshot(), 'latest');
    }
    if (step % o.evalEvery === 0 && !budgetDone()) {
      await settle();
      await validate();
      if (o.patience > 0 && evalsSinceBest >= o.patience) { stopped = 'patience'; break; }
    }
  }
  await settle();
  const summary = (valLoss: number | null): TrainSummary => ({
    steps: step, params: countParams(layout), backend: e.name, kernels: e.variant ?? null, stopped, train_loss: recentLoss,
    val_loss: valLoss, val_bpc: valLoss === null ? null : valLoss / Math.LN2, best_eval_loss: best?.loss ?? null,
    chars_per_sec: charsPerSec(),
    seconds: trainSeconds, checkpoint: o.out, latest: latestSaved ? o.latest : null,
  });
  if (stopped === 'interrupted' || stopped === 'stop-after') {
    await o.save(o.latest, await snapshot());
    latestSaved = true;
    return summary(null);
  }
  if (stopped === 'budget' && (best === null || best.step !== step)) await validate();
  await trySave(o.latest, await snapshot(), 'latest');

  // The training buffers are done with: the final pass's workspace may take their room.
  ws.dispose();
  // The summary's validation loss is that of the kept (best) weights over the whole split.
  const kept: Best = best!;
  const keptFile = kept.file ?? (await o.load(o.out));
  e.write(w.params, keptFile.params);
  // The same segmented path as eval, with its defaults: within 1e-3 bits/char of one stream.
  const full = await evaluateIds(w, o.val, {
    onProgress: (p) => o.onEvent?.({ type: 'final-eval', chars: p.done, total: p.total }),
  });
  const valLoss = full.nats / full.chars;
  await o.save(o.out, { ...keptFile, training: { ...keptFile.training, val_loss: valLoss } });
  return summary(valLoss);
}
