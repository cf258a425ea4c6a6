// The training loop: random windows, AdamW with clipping and a warm-up + cosine schedule, periodic
// validation on a fixed slice of the validation split, the best weights kept at `out`, and one
// pass over the whole validation split at the end.
import type { Engine } from '../engine/engine.js';
import type { ModelConfig } from '../model/config.js';
import { Weights, Workspace } from '../model/model.js';
import { countParams, initParams, paramLayout } from '../model/params.js';
import type { ModelFile, TrainingState } from '../model/serialize.js';
import { evaluateIds } from '../eval/evaluate.js';
import type { Vocab } from '../text/vocab.js';
import { Rng } from '../rng.js';
import { WindowSampler, type Ids } from './batch.js';
import { AdamW } from './optimizer.js';
import { learningRate } from './schedule.js';

export interface TrainOptions {
  engine: Engine;
  config: ModelConfig;
  vocab: Vocab;
  train: Ids;
  val: Ids;
  corpus: string;
  batch: number;
  seq: number;
  lr: number;
  minLr: number;
  warmup: number;
  clip: number;
  weightDecay: number;
  /** Step budget; with `seconds` too, whichever ends first. */
  steps?: number;
  /** Training-time budget in seconds (evaluation time excluded). */
  seconds?: number;
  seed: number;
  evalEvery: number;
  /** Characters of the validation split used by the periodic evaluations. */
  evalChars: number;
  /** Where the best checkpoint goes. */
  out: string;
  save: (path: string, file: ModelFile) => Promise<void>;
  onEvent?: (ev: TrainEvent) => void;
}

export type TrainEvent =
  | { type: 'step'; step: number; loss: number; lr: number; gradNorm: number; charsPerSec: number; progress: number; elapsed: number }
  | { type: 'eval'; step: number; valLoss: number; best: boolean }
  | { type: 'final-eval'; chars: number; total: number };

export interface TrainSummary {
  steps: number;
  params: number;
  backend: string;
  train_loss: number;
  val_loss: number;
  val_bpc: number;
  best_eval_loss: number;
  chars_per_sec: number;
  seconds: number;
  checkpoint: string;
}

export async function train(o: TrainOptions): Promise<TrainSummary> {
  const e = o.engine, rng = new Rng(o.seed);
  const layout = paramLayout(o.config);
  const w = new Weights(e, o.config, initParams(o.config, layout, rng));
  w.enableTraining();
  const ws = new Workspace(w, o.batch, o.seq, true);
  const sampler = new WindowSampler(o.train, o.batch, o.seq);
  const opt = new AdamW(w, { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: o.weightDecay, clip: o.clip });
  const evalSlice = o.val.subarray(0, Math.min(o.val.length, o.evalChars));
  const evalSeq = Math.min(o.seq, 128);
  // Many short streams make the periodic estimate fast; the final pass is one exact stream.
  const evalStreams = Math.max(1, Math.min(32, Math.floor(evalSlice.length / (4 * evalSeq))));

  let step = 0, trainSeconds = 0, charsSeen = 0, recentLoss = NaN;
  let best: { loss: number; params: Float32Array; m: Float32Array; v: Float32Array; step: number } | null = null;
  const recent: number[] = [];
  const state = (extra: Partial<TrainingState>): TrainingState => ({
    step, best_val_loss: best?.loss ?? null, val_loss: null, train_loss: recentLoss, chars_seen: charsSeen,
    seconds: trainSeconds, backend: e.name, corpus: o.corpus, seed: o.seed, rng: rng.state(),
    batch: o.batch, seq: o.seq, lr: o.lr, min_lr: o.minLr, warmup: o.warmup, clip: o.clip, weight_decay: o.weightDecay,
    ...extra,
  });
  const validate = async () => {
    const r = await evaluateIds(w, evalSlice, { seq: evalSeq, streams: evalStreams });
    const loss = r.nats / r.chars;
    const improved = best === null || loss < best.loss;
    if (improved) {
      best = { loss, params: await e.read(w.params), m: await e.read(w.m!), v: await e.read(w.v!), step };
      await o.save(o.out, { config: o.config, vocab: o.vocab, params: best.params, m: best.m, v: best.v, training: state({}) });
    }
    o.onEvent?.({ type: 'eval', step, valLoss: loss, best: improved });
  };

  const budgetDone = () => (o.steps !== undefined && step >= o.steps) || (o.seconds !== undefined && trainSeconds >= o.seconds);
  const progress = () => Math.max(o.steps !== undefined ? step / o.steps : 0, o.seconds !== undefined ? trainSeconds / o.seconds : 0);

  while (!budgetDone()) {
    const t0 = performance.now();
    const lr = learningRate(o, step, progress());
    sampler.next(rng);
    ws.setInputs(sampler.inputs, sampler.targets);
    ws.forward();
    ws.loss();
    ws.backward();
    const gradNorm = await opt.step(step + 1, lr);
    const loss = (await ws.lossSum()) / (o.batch * o.seq);
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      throw new Error(`training diverged at step ${step + 1} (loss ${loss}, gradient norm ${gradNorm}); lower --lr`);
    }
    step++;
    charsSeen += o.batch * o.seq;
    trainSeconds += (performance.now() - t0) / 1000;
    recent.push(loss);
    if (recent.length > 20) recent.shift();
    recentLoss = recent.reduce((a, b) => a + b, 0) / recent.length;
    o.onEvent?.({ type: 'step', step, loss, lr, gradNorm, charsPerSec: charsSeen / trainSeconds, progress: Math.min(1, progress()), elapsed: trainSeconds });
    if (step % o.evalEvery === 0 && !budgetDone()) await validate();
  }
  await validate();

  // The summary's validation loss is that of the saved (best) weights over the whole split.
  const kept = best!;
  e.write(w.params, kept.params);
  const full = await evaluateIds(w, o.val, {
    seq: 256,
    onProgress: (chars) => o.onEvent?.({ type: 'final-eval', chars, total: o.val.length - 1 }),
  });
  const valLoss = full.nats / full.chars;
  await o.save(o.out, {
    config: o.config, vocab: o.vocab, params: kept.params, m: kept.m, v: kept.v,
    training: state({ val_loss: valLoss, best_step: kept.step }),
  });
  return {
    steps: step, params: countParams(layout), backend: e.name, train_loss: recentLoss,
    val_loss: valLoss, val_bpc: valLoss / Math.LN2, best_eval_loss: kept.loss,
    chars_per_sec: charsSeen / trainSeconds, seconds: trainSeconds, checkpoint: o.out,
  };
}
