// The weight update of dynamic evaluation (Krause et al., "Dynamic Evaluation of Neural Sequence
// Models", 2018): after a segment is scored, a gradient step on its loss and a decay back towards
// the trained weights θ₀,
//   θ ← θ − η·s ⊙ ∇L + λ·r ⊙ (θ₀ − θ)
// with s = r = 1 for plain SGD, and for the paper's RMS rule s = 1/(√MS + ε) and
// r = min(1/λ, √MS / mean √MS), where MS is the mean squared gradient of the training data (here
// Adam's second moment as training left it). Every factor is a per-parameter tensor made once,
// so an update is five elementwise engine ops over the flat parameters, with no host round trip.
//
// The decay is computed as C − λr ⊙ θ with C = λr ⊙ θ₀ made once: where θ = θ₀ the two products
// are the same float, so the term is exactly zero and a learning rate of 0 leaves θ₀ bit for bit.
import type { Tensor } from '../engine/engine-api.js';
import type { Weights } from '../model/model.js';

export const DYNAMIC_RULES = ['sgd', 'rms'] as const;
export type DynamicRule = (typeof DYNAMIC_RULES)[number];

/** Added to √MS so that a parameter training barely moved does not take an unbounded step. */
export const RMS_EPS = 1e-8;

export interface UpdateSettings {
  rule: DynamicRule;
  lr: number;
  decay: number;
  /** The rms rule's mean squared training gradient, one per parameter. */
  meanSquares?: Float32Array;
}

export class DynamicUpdate {
  private readonly owned: Tensor[] = [];
  private readonly step: Tensor;
  private readonly decayNeg: Tensor;
  private readonly anchor: Tensor;
  private readonly tmp: Tensor;

  /** `w` holds θ₀ now and is adapted in place; it must have a gradient tensor. */
  constructor(private readonly w: Weights, s: UpdateSettings) {
    const e = w.e, n = w.layout.total;
    const host = new Float32Array(n);
    const make = (fill: (i: number) => number): Tensor => {
      for (let i = 0; i < n; i++) host[i] = fill(i);
      const t = e.tensor(n);
      e.write(t, host);
      this.owned.push(t);
      return t;
    };
    let s1: (i: number) => number = () => 1, r: (i: number) => number = () => 1;
    if (s.rule === 'rms') {
      const ms = s.meanSquares;
      if (!ms || ms.length !== n) throw new RangeError('the rms rule needs one mean square per parameter');
      let mean = 0;
      for (let i = 0; i < n; i++) mean += Math.sqrt(ms[i]);
      mean /= n;
      s1 = (i) => 1 / (Math.sqrt(ms[i]) + RMS_EPS);
      r = (i) => (mean > 0 ? Math.min(1 / Math.max(s.decay, 1e-30), Math.sqrt(ms[i]) / mean) : 1);
    }
    this.step = make((i) => -s.lr * s1(i));
    const lambda = new Float32Array(n);
    for (let i = 0; i < n; i++) lambda[i] = s.decay * r(i);
    this.decayNeg = make((i) => -lambda[i]);
    // C = λr ⊙ θ₀ in float32, by the engine's own product so that it matches λr ⊙ θ where θ = θ₀.
    this.anchor = make((i) => lambda[i]);
    e.mul({ out: this.anchor, a: this.anchor, b: w.params, len: n });
    this.tmp = e.tensor(n);
    this.owned.push(this.tmp);
  }

  /** θ ← θ + (C − λr ⊙ θ) + (−ηs ⊙ ∇L), with ∇L in w.grads (overwritten). */
  apply(): void {
    const { e, params, grads } = this.w, n = this.w.layout.total;
    e.mul({ out: this.tmp, a: params, b: this.decayNeg, len: n });
    e.add({ out: this.tmp, a: this.tmp, b: this.anchor, len: n });
    e.mul({ out: grads!, a: grads!, b: this.step, len: n });
    e.add({ out: params, a: params, b: this.tmp, len: n });
    e.add({ out: params, a: params, b: grads!, len: n });
  }

  dispose(): void {
    for (const t of this.owned) this.w.e.free(t);
    this.owned.length = 0;
  }
}
