// Muon (Jordan et al. 2024) for the recurrent matrices W_h of lstm, gru and rnn layers; AdamW keeps
// everything else. Each step: Nesterov momentum on the (clipped) gradient, its orthogonalisation by
// five steps of the quintic Newton-Schulz iteration, and an update scaled to AdamW's usual RMS,
// 0.2·sqrt(max(rows, cols)) (Liu et al. 2025, "Muon is scalable"), so the same --lr schedule and
// decoupled weight decay serve both. Every piece is an engine op; the momentum lives in the
// AdamW first-moment buffer at W_h's offsets (AdamW skips those views), so checkpoints and resume
// carry it as they are.
import type { Engine, Tensor } from '../engine/engine-api.js';
import { isMinCell } from '../model/config.js';
import type { Weights } from '../model/model.js';
import type { ParamView } from '../model/params.js';

/** The quintic's coefficients (a, b, c): X ← a·X + (b·A + c·A²)·X with A = X·Xᵀ. */
export const NEWTON_SCHULZ = [3.4445, -4.775, 2.0315] as const;
export const NS_STEPS = 5;
export const MOMENTUM = 0.95;

/** The views Muon updates for this model: every layer's W_h (none for the residual cells). */
export function muonViews(w: Weights): ParamView[] {
  if (isMinCell(w.config.cell)) return [];
  return w.layout.views.filter((v) => /\.w_h$/.test(v.name));
}

export class Muon {
  readonly names: Set<string>;
  private readonly owned: Tensor[] = [];
  /** Scratch of the largest view: the Nesterov direction, two iterates, and the small Gram matrices. */
  private readonly u: Tensor; private readonly x: Tensor; private readonly y: Tensor;
  private readonly a: Tensor; private readonly a2: Tensor; private readonly norm: Tensor;
  /** Constant and per-step scalars as tensors, for the elementwise ops. */
  private readonly mu: Tensor; private readonly cb: Tensor; private readonly cc: Tensor; private readonly ca: Tensor;
  private readonly s1: Tensor; private readonly s2: Tensor;
  private readonly host: Float32Array;

  constructor(private readonly w: Weights, private readonly views: ParamView[]) {
    const e = w.e;
    this.names = new Set(views.map((v) => v.name));
    const big = Math.max(0, ...views.map((v) => v.size));
    const small = Math.max(0, ...views.map((v) => Math.min(v.shape[0], v.shape[1]) ** 2));
    const t = (n: number) => { const x = e.tensor(Math.max(1, n)); this.owned.push(x); return x; };
    this.u = t(big); this.x = t(big); this.y = t(big); this.a = t(small); this.a2 = t(small); this.norm = t(1);
    this.mu = t(big); this.ca = t(big); this.cb = t(small); this.cc = t(small); this.s1 = t(big); this.s2 = t(big);
    this.host = new Float32Array(big);
    const [A, B, C] = NEWTON_SCHULZ;
    this.fill(this.mu, MOMENTUM, big); this.fill(this.ca, A, big); this.fill(this.cb, B, small); this.fill(this.cc, C, small);
  }

  dispose(): void {
    for (const t of this.owned) this.w.e.free(t);
    this.owned.length = 0;
  }

  private fill(t: Tensor, value: number, n: number): void {
    this.w.e.write(t, this.host.subarray(0, n).fill(value));
  }

  /** Updates every Muon view from w.grads (times `gradScale`, the clipping). */
  async step(lr: number, weightDecay: number, gradScale: number): Promise<void> {
    const e: Engine = this.w.e, w = this.w;
    for (const v of this.views) {
      const [rows, cols] = v.shape, n = v.size;
      // buf = μ·buf + s·g; u = s·g + μ·buf (Nesterov).
      this.fill(this.s1, gradScale, n);
      e.mul({ out: this.y, a: w.grads!, aOff: v.off, b: this.s1, len: n });
      e.mul({ out: w.m!, outOff: v.off, a: w.m!, aOff: v.off, b: this.mu, len: n });
      e.add({ out: w.m!, outOff: v.off, a: w.m!, aOff: v.off, b: this.y, len: n });
      e.mul({ out: this.u, a: w.m!, aOff: v.off, b: this.mu, len: n });
      e.add({ out: this.u, a: this.u, b: this.y, len: n });
      const o = await this.orthogonalise(rows, cols);
      // W ← (1 − lr·wd)·W − lr·0.2·sqrt(max(rows, cols))·O
      this.fill(this.s1, 1 - lr * weightDecay, n);
      this.fill(this.s2, -lr * 0.2 * Math.sqrt(Math.max(rows, cols)), n);
      e.mul({ out: w.params, outOff: v.off, a: w.params, aOff: v.off, b: this.s1, len: n });
      e.mul({ out: o, a: o, b: this.s2, len: n });
      e.add({ out: w.params, outOff: v.off, a: w.params, aOff: v.off, b: o, len: n });
    }
  }

  /** The quintic Newton-Schulz iteration on this.u (rows × cols), from u/‖u‖; returns the tensor holding the result. */
  private async orthogonalise(rows: number, cols: number): Promise<Tensor> {
    const e = this.w.e, n = rows * cols;
    // The Gram matrix is taken on the shorter side: X·Xᵀ when rows ≤ cols, else Xᵀ·X.
    const wide = rows <= cols, m = wide ? rows : cols;
    e.sumSquares({ out: this.norm, x: this.u, len: n });
    const norm = Math.sqrt((await e.read(this.norm))[0]);
    this.fill(this.s2, 1 / (norm + 1e-7), n);
    let x = this.x, y = this.y;
    e.mul({ out: x, a: this.u, b: this.s2, len: n });
    for (let i = 0; i < NS_STEPS; i++) {
      if (wide) e.matmul({ c: this.a, a: x, b: x, m, n: m, k: cols, transB: true });
      else e.matmul({ c: this.a, a: x, b: x, m, n: m, k: rows, transA: true });
      e.matmul({ c: this.a2, a: this.a, b: this.a, m, n: m, k: m });
      e.mul({ out: this.a, a: this.a, b: this.cb, len: m * m });
      e.mul({ out: this.a2, a: this.a2, b: this.cc, len: m * m });
      e.add({ out: this.a, a: this.a, b: this.a2, len: m * m });
      e.mul({ out: y, a: x, b: this.ca, len: n });
      // Y += B·X (wide) or X·B (tall); B is symmetric.
      if (wide) e.matmul({ c: y, a: this.a, b: x, m: rows, n: cols, k: m, accumulate: true });
      else e.matmul({ c: y, a: x, b: this.a, m: rows, n: cols, k: m, accumulate: true });
      [x, y] = [y, x];
    }
    return x;
  }
}
