// AdamW over the flat parameter buffer, one engine call per parameter view so that weight decay
// reaches matrices only. Gradient-norm clipping becomes a scale on the gradient inside the update.
import type { Engine, Tensor } from '../engine/engine-api.js';
import type { Weights } from '../model/model.js';
import type { Muon } from './muon.js';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Clip the global gradient norm to this; 0 disables. */
  clip: number;
  /** Updates its own views (the recurrent matrices) in AdamW's place, with the same clipping, rate and decay. */
  muon?: Muon | null;
}

export class AdamW {
  private readonly norm: Tensor;

  constructor(private readonly w: Weights, private readonly o: AdamWOptions) {
    this.norm = w.e.tensor(1);
  }

  dispose(): void {
    this.w.e.free(this.norm);
  }

  /** The global L2 norm of the current gradients. */
  async gradNorm(): Promise<number> {
    const e: Engine = this.w.e;
    e.sumSquares({ out: this.norm, x: this.w.grads!, len: this.w.layout.total });
    return Math.sqrt((await e.read(this.norm))[0]);
  }

  /** Applies one update; `step` is 1-based. Returns the gradient norm before clipping. */
  async step(step: number, lr: number): Promise<number> {
    const w = this.w, o = this.o;
    const norm = await this.gradNorm();
    const gradScale = o.clip > 0 && norm > o.clip ? o.clip / norm : 1;
    if (!Number.isFinite(norm)) return norm;
    for (const v of w.layout.views) {
      if (o.muon?.names.has(v.name)) continue;
      w.e.adamw({
        param: w.params, grad: w.grads!, m: w.m!, v: w.v!, off: v.off, len: v.size,
        lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: v.decay ? o.weightDecay : 0, step, gradScale,
      });
    }
    await o.muon?.step(lr, o.weightDecay, gradScale);
    return norm;
  }
}
