// Training throughput at a given shape, measured on the spot: the same step as the training loop
// (forward, loss, backward, clipped AdamW, the loss and norm kept as the loop keeps them) on random
// characters, median over timed steps.
import type { Engine } from '../engine/engine-api.js';
import type { ModelConfig } from '../model/config.js';
import { Weights, Workspace } from '../model/model.js';
import { initParams, paramLayout } from '../model/params.js';
import { Rng } from '../rng.js';
import { AdamW } from './optimizer.js';
import { median } from '../stats.js';
import { StepStats } from './step-stats.js';

export interface SpeedResult {
  msPerStepMedian: number;
  charsPerSec: number;
  steps: number;
}

/**
 * `onTimed` runs just before the first timed step and just after the last (counting what crosses
 * to a GPU during the timed steps, say); the numbers the steps kept are read after it.
 */
export async function measureTrainSpeed(
  e: Engine, config: ModelConfig, batch: number, seq: number, steps: number, warmup: number, onTimed?: (phase: 'start' | 'end') => void,
): Promise<SpeedResult> {
  const rng = new Rng(1);
  const w = new Weights(e, config, initParams(config, paramLayout(config), rng));
  w.enableTraining();
  const ws = new Workspace(w, batch, seq, true);
  const opt = new AdamW(w, { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, clip: 1 });
  const stats = new StepStats(ws, opt);
  const ids = new Float32Array(batch * seq), targets = new Float32Array(batch * seq);
  const times: number[] = [];
  try {
    // The warm-up compiles every kernel; its numbers are read before timing starts.
    for (let s = 0; s < warmup + steps; s++) {
      if (s === warmup) {
        await stats.drain();
        onTimed?.('start');
      }
      for (let i = 0; i < ids.length; i++) { ids[i] = rng.int(config.vocab); targets[i] = rng.int(config.vocab); }
      const t0 = performance.now();
      ws.setInputs(ids, targets);
      ws.forward(); ws.loss(); ws.backward();
      await stats.update(s + 1, 1e-3);
      stats.take(false);
      ws.carryState(); // as the default batching (streams) does
      if (s >= warmup) times.push(performance.now() - t0);
    }
    if (onTimed) {
      await e.sync(); // every launch of the timed steps made
      onTimed('end');
    }
    await stats.drain();
  } finally {
    stats.dispose();
    opt.dispose();
    ws.dispose();
    w.dispose();
  }
  const ms = median(times);
  return { msPerStepMedian: ms, charsPerSec: (batch * seq) / (ms / 1000), steps };
}
