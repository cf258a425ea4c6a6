// The training loop: batches from a BatchSource, AdamW with clipping and a warm-up + decay
// schedule, periodic validation on a fixed slice of the validation split with the best weights
// kept at `out` (with keep: 'final', the last ones at the end), optionally a moving average of the
// weights in their place (average.ts), the full state saved to `latest` every `saveEvery` steps
// and when stopped, and one pass over the whole validation split at the end, of the weights kept.
import { existsSync } from 'node:fs';
import type { Engine } from '../engine/engine-api.js';
import { UserError } from '../errors.js';
import type { ModelConfig } from '../model/config.js';
import { Weights, Workspace } from '../model/model.js';
import { countParams, initParams, paramLayout } from '../model/params.js';
import type { ModelFile, TrainingState } from '../model/serialize.js';
import { estimateIds, evaluateIds } from '../eval/evaluate.js';
import type { Vocab } from '../text/vocab.js';
import type { TextFingerprint } from '../text/fingerprint.js';
import { Rng } from '../rng.js';
import { settingsRecord, type TrainSettings } from '../model/settings.js';
import { batchSource, type Ids } from './batch.js';
import { AdamW } from './optimizer.js';
import { Muon, muonViews } from './muon.js';
import { onlineWeights, WeightAverage } from './average.js';
import { resumedBest } from './resume.js';
import { learningRate } from './schedule.js';
import { StepStats, type StepRecord } from './step-stats.js';

/** How often a run on a GPU reads its losses back to show them (a read stalls the device). */
const SHOW_EVERY_MS = 1000;

export interface TrainOptions {
  engine: Engine;
  config: ModelConfig;
  vocab: Vocab;
  train: Ids;
  val: Ids;
  /**
   * Every setting of the run, as the settings table types them: the loop uses what it needs and
   * the checkpoint records the table's fields (settingsRecord), so a new setting is a table row
   * and the code that uses it.
   */
  settings: TrainSettings;
  /**
   * Where the text came from, recorded as it is: the path (several files one per line), the
   * catalogue name, how validation was drawn, how many documents and symbols, and the separator id
   * between documents (null for one).
   */
  source: { corpus: string; corpusName?: string | null; split?: string; documents?: number; chars?: number; separator?: number | null };
  /** The best checkpoint by validation loss. */
  out: string;
  /** The latest full training state, every `saveEvery` steps and when stopped. */
  latest: string;
  resume?: ModelFile;
  /** Fingerprints of `train` and `val`, recorded so a resume can check it has the same text. */
  texts?: { train: TextFingerprint; val: TextFingerprint };
  save: (path: string, file: ModelFile) => Promise<void>;
  /** Reads what is at `out` when a resumed run ends on a best from before it: kept only if it holds exactly those weights. */
  load: (path: string) => Promise<ModelFile>;
  /** Polled between steps: true ends the run after the current step, with a save. */
  shouldStop?: () => boolean;
  /**
   * Cuts short what is slow: an estimate in progress (then not compared) and the final pass (then
   * no whole-split score). Never a step or a save.
   */
  signal?: AbortSignal;
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
  /** The step of the best weights (perhaps one before this run, when it resumed and did not beat them). */
  best_step: number | null;
  chars_per_sec: number;
  seconds: number;
  checkpoint: string;
  /** The latest-state checkpoint, or null when its last save failed. */
  latest: string | null;
}

export class TrainingDiverged extends UserError {}

/**
 * The best weights by estimate, always held: this run's own (file: their full checkpoint) or those
 * of the checkpoint it resumed from (file: that checkpoint when it is the best one, else null).
 */
interface Best { loss: number; step: number; seconds: number; params: Float32Array; file: ModelFile | null; mine: boolean; saved: boolean }

/** A macrotask costs about 2.4 µs; within a step, the event loop turns at least this often. */
const TURN_MS = 50;

export async function train(o: TrainOptions): Promise<TrainSummary> {
  // Engine memory is not garbage-collected: what the run allocated goes back however it ends, so
  // an engine can carry one run after another (tests, sweeps) at flat memory.
  const owned: { dispose(): void }[] = [];
  try {
    return await run(o, owned);
  } finally {
    for (const h of owned.reverse()) h.dispose();
  }
}

async function run(o: TrainOptions, owned: { dispose(): void }[]): Promise<TrainSummary> {
  const e = o.engine, r = o.resume, s = o.settings;
  const layout = paramLayout(o.config);
  let rng = new Rng(s.seed);
  const start = r ? onlineWeights(r) : initParams(o.config, layout, rng);
  const w = new Weights(e, o.config, start);
  // An average resumes from the checkpoint's parameters (its average, or its only weights).
  const average = s.ema > 0 ? new WeightAverage(s.ema, r ? r.params : start, start) : null;
  w.enableTraining(r?.m, r?.v);
  if (r) rng = Rng.fromState(r.training.rng);
  // Masks draw from their own stream, so turning dropout on or off leaves the batches as they were.
  const dropRng = r?.training.dropout_rng ? Rng.fromState(String(r.training.dropout_rng)) : new Rng(s.seed ^ 0x5bd1e995);
  const weightDrop = s.weightDrop;
  const schedule = { lr: s.lr, minLr: s.minLr, warmup: s.warmup, decay: s.decay, decayFrom: s.decayFrom } as const;
  const ws = new Workspace(w, s.batch, s.seq, true, s.dropout, { weightDrop });
  const data = batchSource(s.batching, o.train, s.batch, s.seq);
  const muon = s.optimizer === 'muon' ? new Muon(w, muonViews(w)) : null;
  const opt = new AdamW(w, { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: s.weightDecay, clip: s.clip, muon });
  const stats = new StepStats(ws, opt);
  owned.push(w, ws, opt, stats);
  if (muon) owned.push(muon);
  const evalChars = Math.min(o.val.length, s.evalChars);
  const evalSeq = Math.min(s.seq, 128);
  // Many short streams make the periodic estimate fast; the final pass uses eval's defaults.
  const evalStreams = Math.max(1, Math.min(32, Math.floor(evalChars / (4 * evalSeq))));

  let step = r?.training.step ?? 0;
  let trainSeconds = r?.training.seconds ?? 0;
  let charsSeen = r?.training.chars_seen ?? 0;
  let evalsSinceBest = Number(r?.training.evals_since_best ?? 0);
  const held = r && !s.newData ? resumedBest(r) : null;
  let best: Best | null = held ? { ...held, mine: false, saved: false } : null;
  // A best that is not held (another text, or a latest state that kept no copy) is not compared with.
  if (r && !held) evalsSinceBest = 0;
  const newDataStep = s.newData ? step : r?.training.new_data_step ?? null;
  if (r) data.cursor = Number(r.training.cursor ?? 0);
  if (r && data.carriesState && r.extra) ws.writeState(r.extra);
  const startStep = step, startSeconds = trainSeconds, startChars = charsSeen;
  /** Throughput of this run alone (a resumed run's earlier steps ran elsewhere, at another speed). */
  const charsPerSec = () => (charsSeen - startChars) / Math.max(1e-9, trainSeconds - startSeconds);
  let recentLoss = r?.training.train_loss ?? NaN;
  const recent: number[] = [];

  const snapshot = async (extra: Partial<TrainingState> = {}): Promise<ModelFile> => ({
    config: o.config, vocab: o.vocab, tokenizer: s.tokenizer, m: await e.read(w.m!), v: await e.read(w.v!),
    ...await weightsOf(data.carriesState ? await ws.readState() : undefined),
    training: {
      ...settingsRecord(s),
      step, best_val_loss: best?.loss ?? null, best_step: best?.step ?? null, val_loss: null, train_loss: recentLoss,
      chars_seen: charsSeen, seconds: trainSeconds, backend: e.name, ...(e.variant ? { kernels: e.variant } : {}),
      corpus: o.source.corpus, ...(o.source.corpusName !== undefined ? { corpus_name: o.source.corpusName } : {}), ...(o.source.split !== undefined ? { split: o.source.split } : {}),
      ...(o.source.documents !== undefined ? { documents: o.source.documents, corpus_chars: o.source.chars ?? null, doc_separator: o.source.separator ?? null } : {}),
      rng: rng.state(), dropout_rng: dropRng.state(), cursor: data.cursor, evals_since_best: evalsSinceBest,
      ...(o.texts ? { train_text: o.texts.train, val_text: o.texts.val } : {}),
      ...(newDataStep !== null ? { new_data_step: newDataStep } : {}),
      ...extra,
    },
  });
  /** The weights a checkpoint holds: the average's when there is one (average.ts). */
  const weightsOf = async (state?: Map<string, Float32Array>) => (average ? average.saved(state) : { params: await e.read(w.params), extra: state });
  /** The latest state, with a copy of the best weights when they are not its own, so a resume holds them. */
  const latestSnapshot = async (): Promise<ModelFile> => {
    if (!best || best.step === step) return snapshot();
    const f = await snapshot({ best_seconds: best.seconds });
    return { ...f, extra: new Map([...(f.extra ?? []), ['best.params', best.params]]) };
  };
  /** Periodic saves may fail (full disk): the previous file stays, training goes on. */
  let latestSaved = false;
  const trySave = async (path: string, file: ModelFile, kind: 'best' | 'latest'): Promise<boolean> => {
    try {
      await o.save(path, file);
      if (kind === 'latest') latestSaved = true;
      o.onEvent?.({ type: 'saved', step, path, kind });
      return true;
    } catch (err) {
      if (kind === 'latest') latestSaved = false;
      o.onEvent?.({ type: 'save-failed', step, path, message: (err as Error).message });
      return false;
    }
  };
  let lastEstimate = NaN;
  const validate = async () => {
    const estimate = () => estimateIds(w, o.val, { chars: evalChars, seq: evalSeq, streams: evalStreams, signal: o.signal });
    const res = average ? await average.applied(e, w.params, estimate) : await estimate();
    if (res.partial) return;
    const loss = res.nats / res.chars;
    lastEstimate = loss;
    const improved = best === null || loss < best.loss;
    if (improved) {
      evalsSinceBest = 0;
      // The snapshot records the new best, so it is set first.
      const b: Best = { loss, step, seconds: trainSeconds, params: new Float32Array(0), file: null, mine: true, saved: false };
      best = b;
      b.file = await snapshot();
      b.params = b.file.params;
      b.saved = await trySave(o.out, b.file, 'best');
    } else {
      evalsSinceBest++;
    }
    o.onEvent?.({ type: 'eval', step, valLoss: loss, best: improved });
  };

  const budgetDone = () => (s.steps !== undefined && step >= s.steps) || (s.time !== undefined && trainSeconds >= s.time);
  const progress = () => Math.max(s.steps !== undefined ? step / s.steps : 0, s.time !== undefined ? trainSeconds / s.time : 0);

  // The engines compute synchronously and their reads resolve as microtasks: without these turns
  // the event loop would wait for the next file write, so a signal handler, a timer or a progress
  // line would wait for an evaluation or a save (13.6 s for a GRU 2×256, forever with neither).
  let lastTurn = performance.now();
  const turn = async (always: boolean) => {
    if (!always && performance.now() - lastTurn < TURN_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    lastTurn = performance.now();
  };

  // A step's loss and gradient norm arrive when they are read (at once on the CPU engines; on a GPU
  // about once a second, and before anything is saved or evaluated): checked and reported then.
  const onRecord = (rec: StepRecord): void => {
    // Worse than twice a uniform guess is as diverged as NaN: saturated gates keep an exploded
    // LSTM's loss finite.
    if (!Number.isFinite(rec.loss) || !Number.isFinite(rec.gradNorm) || rec.loss > 2 * Math.log(o.config.vocab) + 5) {
      throw new TrainingDiverged(
        `training diverged at step ${rec.step} (loss ${rec.loss}, gradient norm ${rec.gradNorm}); try a lower learning rate than --lr ${s.lr}` +
          // Name a file only if there is one: a best checkpoint whose save failed is not one.
          (existsSync(o.out) ? `; the last good checkpoint is untouched at ${o.out}` : '; no checkpoint was written'),
      );
    }
    recent.push(rec.loss);
    if (recent.length > 20) recent.shift();
    recentLoss = recent.reduce((a, b) => a + b, 0) / recent.length;
    o.onEvent?.({ type: 'step', step: rec.step, loss: rec.loss, lr: rec.lr, gradNorm: rec.gradNorm, charsPerSec: charsPerSec(), progress: Math.min(1, progress()), elapsed: trainSeconds });
  };
  /** Every step's numbers in, before a save or an estimate (the waiting is training time). */
  const settle = async () => {
    const t0 = performance.now();
    const records = await stats.drain();
    trainSeconds += (performance.now() - t0) / 1000;
    for (const rec of records) onRecord(rec);
  };
  let shown = -Infinity;

  let stopped: StopReason = 'budget';
  while (!budgetDone()) {
    await turn(true);
    if (o.shouldStop?.()) { stopped = 'interrupted'; break; }
    if (s.stopAfter !== undefined && step - startStep >= s.stopAfter) { stopped = 'stop-after'; break; }
    const t0 = performance.now();
    const lr = learningRate(schedule, step, progress());
    if (data.next(rng) || !data.carriesState) ws.resetState();
    ws.setInputs(data.inputs, data.targets);
    ws.drawDropout(dropRng);
    for (const _ of ws.forwardParts()) await turn(false);
    ws.loss();
    for (const _ of ws.backwardParts()) await turn(false);
    await stats.update(step + 1, lr);
    if (data.carriesState) ws.carryState();
    step++;
    if (average) average.update(await e.read(w.params), step);
    charsSeen += s.batch * s.seq;
    const t1 = performance.now();
    trainSeconds += (t1 - t0) / 1000;
    const show = t1 - shown >= SHOW_EVERY_MS;
    if (show) shown = t1;
    for (const rec of stats.take(show)) onRecord(rec);
    if (s.saveEvery > 0 && step % s.saveEvery === 0) {
      await settle();
      await trySave(o.latest, await latestSnapshot(), 'latest');
    }
    if (step % s.evalEvery === 0 && !budgetDone()) {
      await settle();
      await validate();
      if (s.patience > 0 && evalsSinceBest >= s.patience) { stopped = 'patience'; break; }
    }
  }
  await settle();
  const summary = (valLoss: number | null): TrainSummary => ({
    steps: step, params: countParams(layout), backend: e.name, kernels: e.variant ?? null, stopped, train_loss: recentLoss,
    val_loss: valLoss, val_bpc: valLoss === null ? null : valLoss / Math.LN2, best_eval_loss: best?.loss ?? null,
    best_step: best?.step ?? null, chars_per_sec: charsPerSec(),
    seconds: trainSeconds, checkpoint: o.out, latest: latestSaved ? o.latest : null,
  });
  if (stopped === 'interrupted' || stopped === 'stop-after') {
    await o.save(o.latest, await latestSnapshot());
    latestSaved = true;
    return summary(null);
  }
  if (stopped === 'budget' && (best === null || best.step !== step)) await validate();
  await trySave(o.latest, await latestSnapshot(), 'latest');
  // --keep final: the run ends with its last weights at `out` (their estimate is the last one),
  // whatever the earlier estimates said; with the decay to 0 they are the most trained.
  if (s.keep === 'final' && best && best.step !== step) {
    const f = await snapshot();
    best = { loss: lastEstimate, step, seconds: trainSeconds, params: f.params, file: f, mine: true, saved: false };
  }
  const cut = () => !!o.shouldStop?.() || !!o.signal?.aborted;
  if (best === null || cut()) {
    stopped = 'interrupted';
    if (best) await keepBest(best, null);
    return summary(null);
  }

  // The training buffers are done with: the final pass's workspace may take their room.
  ws.dispose();
  // The summary's validation loss is that of the best weights this run holds, over the whole split.
  e.write(w.params, best.params);
  // The same segmented path as eval, with its defaults: within 1e-3 bits/char of one stream.
  const full = await evaluateIds(w, o.val, {
    onProgress: (p) => o.onEvent?.({ type: 'final-eval', chars: p.done, total: p.total }),
    signal: o.signal,
  });
  const valLoss = full.partial ? null : full.nats / full.chars;
  if (full.partial) stopped = 'interrupted';
  await keepBest(best, valLoss);
  return summary(valLoss);

  /**
   * Leaves the best weights at `out` with their whole-split score (when measured). This run's own
   * best is there already unless its save failed. A best from before this run is written from the
   * weights held; a file already at `out` is kept (its optimizer state with it) only when it holds
   * exactly those weights, whatever model it is otherwise.
   */
  async function keepBest(b: Best, score: number | null): Promise<void> {
    let file = b.file;
    if (!b.mine) {
      const there = await o.load(o.out).catch(() => null);
      if (there && JSON.stringify(there.config) === JSON.stringify(o.config) && sameBits(there.params, b.params)) {
        file = there;
        b.saved = true;
      } else {
        file ??= weightsOnly(b);
      }
    }
    if (score === null && b.saved) return;
    await o.save(o.out, { ...file!, training: { ...file!.training, val_loss: score } });
  }

  /** A best checkpoint from a latest state's copy of the best weights: no optimizer state to resume. */
  function weightsOnly(b: Best): ModelFile {
    const t = r!.training;
    return {
      config: o.config, vocab: o.vocab, tokenizer: s.tokenizer, params: b.params,
      training: { ...t, ...(o.texts ? { train_text: o.texts.train, val_text: o.texts.val } : {}), step: b.step, chars_seen: b.step * s.batch * s.seq, seconds: b.seconds, train_loss: null, best_val_loss: b.loss, best_step: b.step, val_loss: null },
    };
  }
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
