// Weight averaging (--ema): an exponential moving average of the weights after every update, kept
// on the host beside the optimizer's own ("online") weights. Validation, the kept checkpoint and
// everything that reads it (sample, eval) use the average; training goes on from the online
// weights. A checkpoint of an averaged run holds the average as its parameters, so every reader
// gets it without knowing, and the online weights as the extra tensor `train.online`, so a resume
// continues both exactly.
import type { Engine, Tensor } from '../engine/engine-api.js';
import type { ModelFile } from '../model/serialize.js';

/** The name of the online weights among a checkpoint's extra tensors. */
export const ONLINE = 'online';

/** The weights training continues from: the online ones when the checkpoint holds an average. */
export function onlineWeights(file: ModelFile): Float32Array {
  return file.extra?.get(ONLINE) ?? file.params;
}

/**
 * The decay used after update `step` (1-based): `decay`, held lower early on, (1 + step) / (10 +
 * step), so that the first updates do not leave the random initialisation in the average for
 * thousands of steps (the usual warm-up of an EMA, as in TensorFlow's num_updates).
 */
export function averageDecay(decay: number, step: number): number {
  return Math.min(decay, (1 + step) / (10 + step));
}

export class WeightAverage {
  /** The average, updated in place. */
  readonly values: Float32Array;
  /** The online weights last folded in (or those it started from): what validation puts back. */
  private online: Float32Array;

  /**
   * `average`: where it starts (a checkpoint's parameters, or the initial weights); `online`: the
   * weights training starts from. Both are copied.
   */
  constructor(readonly decay: number, average: Float32Array, online: Float32Array) {
    if (average.length !== online.length) throw new Error(`average of ${average.length} floats, weights of ${online.length}`);
    this.values = Float32Array.from(average);
    this.online = Float32Array.from(online);
  }

  /** Folds in the weights after update `step` (1-based). `weights` is kept, not copied: do not change it. */
  update(weights: Float32Array, step: number): void {
    const k = 1 - averageDecay(this.decay, step), a = this.values;
    for (let i = 0; i < a.length; i++) a[i] += k * (weights[i] - a[i]);
    this.online = weights;
  }

  /** Runs `f` with the average in `params`, then puts the online weights back. */
  async applied<T>(e: Engine, params: Tensor, f: () => Promise<T>): Promise<T> {
    e.write(params, this.values);
    try {
      return await f();
    } finally {
      e.write(params, this.online);
    }
  }

  /** What a checkpoint holds: the average as its parameters, the online weights as an extra tensor (copies). */
  saved(extra?: Map<string, Float32Array>): { params: Float32Array; extra: Map<string, Float32Array> } {
    const out = new Map(extra);
    out.set(ONLINE, this.online.slice());
    return { params: this.values.slice(), extra: out };
  }
}
