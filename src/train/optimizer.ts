// AdamW over the flat parameter buffer, weight decay reaching matrices only. Gradient-norm
// clipping becomes a scale on the gradient inside the update. Two ways to run it, the same update:
// - step(): the norm read back, one engine call per parameter view (the CPU engines, where a read
//   costs nothing: their results stay the bits they always were);
// - update(): one call over the whole buffer with a decay mask written once, the clip scale
//   computed by the engine from the norm it just summed. Nothing is read back, so a GPU's training
//   step never waits on the host; the norm stays on the device until something shows it.
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
  /** 1 where weight decay applies (matrices), 0 elsewhere (biases, gains). */
  private readonly decay: Tensor;

  constructor(private readonly w: Weights, private readonly o: AdamWOptions) {
    this.norm = w.e.tensor(1);
    const mask = new Float32Array(w.layout.total);
    for (const v of w.layout.views) if (v.decay) mask.fill(1, v.off, v.off + v.size);
    this.decay = w.e.tensor(mask.length);
    w.e.write(this.decay, mask);
  }

  /** Whether update() can run the whole step without a read (Muon reads its own norms back). */
  get deferrable(): boolean {
    return !this.o.muon;
  }

  dispose(): void {
    this.w.e.free(this.norm);
    this.w.e.free(this.decay);
  }

  /**
   * step() without the read: the squared gradient norm before clipping is left at normSq[off], and
   * a step whose norm is not finite changes nothing.
   */
  update(step: number, lr: number, normSq: Tensor = this.norm, off = 0): void {
    const w = this.w, o = this.o, e: Engine = w.e;
    e.sumSquares({ out: normSq, outOff: off, x: w.grads!, len: w.layout.total });
    e.adamw({
      param: w.params, grad: w.grads!, m: w.m!, v: w.v!, off: 0, len: w.layout.total, lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps,
      weightDecay: o.weightDecay, step, gradScale: 1, normSq, normSqOff: off, clip: o.clip, decay: this.decay,
    });
  }

  /** Applies one update (`step` is 1-based) and returns the gradient norm before clipping. */
  async step(step: number, lr: number): Promise<number> {
    const w = this.w, o = this.o, e: Engine = w.e;
    e.sumSquares({ out: this.norm, x: w.grads!, len: w.layout.total });
    const norm = Math.sqrt((await e.read(this.norm))[0]);
    const gradScale = o.clip > 0 && norm > o.clip ? o.clip / norm : 1;
    if (!Number.isFinite(norm)) return norm;
    for (const v of w.layout.views) {
      if (o.muon?.names.has(v.name)) continue;
      e.adamw({
        param: w.params, grad: w.grads!, m: w.m!, v: w.v!, off: v.off, len: v.size,
        lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: v.decay ? o.weightDecay : 0, step, gradScale,
      });
    }
    await o.muon?.step(lr, o.weightDecay, gradScale);
    return norm;
  }
}
