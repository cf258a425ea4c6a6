// Eval throughput at a model's shapes, measured on the spot for `charnn bench --speed`: random
// weights over a random text, the default segmented path, median of a few runs.
import type { Engine } from '../engine/engine-api.js';
import type { ModelConfig } from '../model/config.js';
import { Weights } from '../model/model.js';
import { initParams, paramLayout } from '../model/params.js';
import { Rng } from '../rng.js';
import { median } from '../stats.js';
import { evaluateIds, type EvalOptions } from './evaluate.js';

export async function measureEvalSpeed(engine: Engine, config: ModelConfig, o: EvalOptions & { chars?: number; repeats?: number } = {}): Promise<{ charsPerSec: number }> {
  const rng = new Rng(1);
  const w = new Weights(engine, config, initParams(config, paramLayout(config), rng));
  const ids = new Uint32Array(o.chars ?? 200_000).map(() => rng.int(config.vocab));
  const rates: number[] = [];
  await evaluateIds(w, ids.subarray(0, Math.min(ids.length, 20_000)), o); // warm-up: kernels compiled, buffers made
  for (let i = 0; i < (o.repeats ?? 3); i++) {
    const r = await evaluateIds(w, ids, o);
    rates.push(r.chars / r.seconds);
  }
  return { charsPerSec: median(rates) };
}
