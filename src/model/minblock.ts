// A pre-norm residual block around a minimal gated cell, as in the minGRU/minLSTM language model
// of Feng et al. (2024):  x₁ = x + scan(RMSNorm(x)·W + b);  out = x₁ + MLP(RMSNorm(x₁)).
// The gates depend only on the input, so the whole chunk's projection is one product and the
// recurrence is one elementwise scan; nothing but the scan runs per timestep.
import type { Tensor } from '../engine/engine-api.js';
import { HStateLayer, sumPerId, type Layer, type LayerContext } from './layer.js';

export const RMS_EPS = 1e-6;

export class MinBlock extends HStateLayer implements Layer {
  private readonly k: number; // projection width per channel: 2 (minGRU) or 3 (minLSTM)
  private readonly n1?: Tensor; private readonly r1?: Tensor; // the normed input rows, unless looked up by id
  private readonly proj: Tensor; private readonly act: Tensor;
  protected readonly h: Tensor;  // (T+1)·B × D scan state; slot 0 carried in
  private readonly x1: Tensor; // x + scan output
  private readonly n2?: Tensor; private readonly r2?: Tensor;
  private readonly m1?: Tensor; private readonly g?: Tensor;
  private readonly y?: Tensor; // block output when there is an MLP
  readonly dOut?: Tensor;
  private readonly dProj?: Tensor; private readonly dN?: Tensor; private readonly dX1?: Tensor; private readonly dG?: Tensor;
  private readonly gE?: Tensor; // exp(−2u) of the GELU, kept for its backward (training only)
  private readonly lookupNorm?: { out: Tensor; rstd: Tensor }; // the normed input rows, one per id

  constructor(protected readonly ctx: LayerContext, private readonly cell: 'mingru' | 'minlstm', private readonly mlp: number) {
    super();
    const { batch: B, seq: T, hidden: D, training } = ctx, n = T * B;
    // What only this block's forward reads (and its backward, in training) may be shared.
    const temp = (name: string, floats: number): Tensor => ctx.temp?.(name, floats) ?? ctx.alloc(floats);
    this.k = cell === 'mingru' ? 2 : 3;
    if (!ctx.lookup) { this.n1 = temp('n1', n * D); this.r1 = temp('r1', n); }
    this.proj = temp('proj', n * this.k * D); this.act = temp('act', n * this.k * D);
    this.h = ctx.alloc((T + 1) * B * D);
    this.x1 = mlp > 0 ? temp('x1', n * D) : ctx.alloc(n * D); // without an MLP it is the block's output
    if (mlp > 0) {
      this.n2 = temp('n2', n * D); this.r2 = temp('r2', n);
      this.m1 = temp('m1', n * mlp * D); this.g = temp('g', n * mlp * D);
      this.y = ctx.alloc(n * D);
    }
    if (ctx.lookup) this.lookupNorm = { out: ctx.alloc(ctx.lookup.vocab * D), rstd: ctx.alloc(ctx.lookup.vocab) };
    if (training) {
      this.dOut = ctx.alloc(n * D);
      this.dProj = ctx.alloc(n * this.k * D);
      this.dN = ctx.alloc(n * D);
      if (mlp > 0) { this.dX1 = ctx.alloc(n * D); this.dG = ctx.alloc(n * mlp * D); this.gE = ctx.alloc(n * mlp * D); }
    }
  }

  out(): [Tensor, number] {
    return [this.y ?? this.x1, 0];
  }

  forward(x: Tensor, xOff: number): void {
    const { e, P, view, prefix: p, batch: B, seq: T, hidden: D } = this.ctx, n = T * B, kD = this.k * D;
    // The first block's input rows depend on the id alone, so its whole projection does too: norm
    // and project the vocab rows into the table, then look each position's row up (row by row the
    // same ops, so the same bits as over the n rows).
    const lk = this.ctx.lookup, ln = this.lookupNorm;
    const [src, srcOff, rows, normed, rstd, out] = lk && ln
      ? [lk.rows[0], lk.rows[1], lk.vocab, ln.out, ln.rstd, lk.table]
      : [x, xOff, n, this.n1!, this.r1!, this.proj];
    e.rmsNormForward({ x: src, xOff: srcOff, w: P, wOff: view(`${p}.norm1`).off, out: normed, rstd, rows, cols: D, eps: RMS_EPS });
    e.matmul({ c: out, a: normed, b: P, bOff: view(`${p}.w`).off, m: rows, n: kD, k: D, bias: P, biasOff: view(`${p}.bias`).off });
    if (lk) e.embedding({ out: this.proj, table: lk.table, ids: lk.ids, n, dim: kD });
    e.minScanForward({
      cell: this.cell, proj: this.proj, act: this.act, h: this.h, steps: T, batch: B, hidden: D, residual: x, residualOff: xOff, sum: this.x1,
    });
    if (!this.y) return;
    const M = this.mlp * D;
    e.rmsNormForward({ x: this.x1, w: P, wOff: view(`${p}.norm2`).off, out: this.n2!, rstd: this.r2!, rows: n, cols: D, eps: RMS_EPS });
    e.matmul({ c: this.m1!, a: this.n2!, b: P, bOff: view(`${p}.mlp.w1`).off, m: n, n: M, k: D, bias: P, biasOff: view(`${p}.mlp.b1`).off });
    e.geluForward({ out: this.g!, x: this.m1!, len: n * M, e: this.gE });
    // The residual starts the output's sums, so the product accumulates onto it (no add pass).
    e.copy({ dst: this.y, src: this.x1, len: n * D });
    e.matmul({
      c: this.y, a: this.g!, b: P, bOff: view(`${p}.mlp.w2`).off, m: n, n: D, k: M, accumulate: true, bias: P, biasOff: view(`${p}.mlp.b2`).off,
    });
  }

  backward(x: Tensor, xOff: number, dx: Tensor | null): void {
    const { e, P, G, view, prefix: p, batch: B, seq: T, hidden: D } = this.ctx, n = T * B, kD = this.k * D;
    let dX1 = this.dOut!;
    if (this.y) {
      const M = this.mlp * D, dG = this.dG!;
      const w1 = view(`${p}.mlp.w1`).off, w2 = view(`${p}.mlp.w2`).off;
      e.matmul({ c: G!, cOff: w2, a: this.g!, b: this.dOut!, m: M, n: D, k: n, transA: true, accumulate: true });
      e.sumRows({ out: G!, outOff: view(`${p}.mlp.b2`).off, x: this.dOut!, rows: n, cols: D, accumulate: true });
      e.matmul({ c: dG, a: this.dOut!, b: P, bOff: w2, m: n, n: M, k: D, transB: true });
      e.geluBackward({ dx: dG, x: this.m1!, dy: dG, len: n * M, e: this.gE });
      e.matmul({ c: G!, cOff: w1, a: this.n2!, b: dG, m: D, n: M, k: n, transA: true, accumulate: true });
      e.sumRows({ out: G!, outOff: view(`${p}.mlp.b1`).off, x: dG, rows: n, cols: M, accumulate: true });
      e.matmul({ c: this.dN!, a: dG, b: P, bOff: w1, m: n, n: D, k: M, transB: true });
      // The residual stream's gradient is its own plus what flows back through the MLP branch.
      e.rmsNormBackward({
        x: this.x1, w: P, wOff: view(`${p}.norm2`).off, rstd: this.r2!, dOut: this.dN!, dx: this.dX1!, dw: G!, dwOff: view(`${p}.norm2`).off,
        rows: n, cols: D, residual: this.dOut!,
      });
      dX1 = this.dX1!;
    }
    const w = view(`${p}.w`).off, norm1 = view(`${p}.norm1`).off;
    e.minScanBackward({ cell: this.cell, proj: this.proj, act: this.act, h: this.h, dh: dX1, dProj: this.dProj!, steps: T, batch: B, hidden: D });
    // With a lookup, the norm and projection ran on the vocab rows: their backward does too, on
    // dProj summed per id (linear in it, so the same gradients with other rounding).
    const lk = this.ctx.lookup, ln = this.lookupNorm, perId = lk && ln && lk.grad ? { lk, ln, grad: lk.grad } : null;
    const [normed, dP, rows] = perId
      ? [perId.ln.out, sumPerId(this.ctx, perId.lk, this.dProj!, kD), perId.lk.vocab]
      : [this.n1!, this.dProj!, n];
    e.matmul({ c: G!, cOff: w, a: normed, b: dP, m: D, n: kD, k: rows, transA: true, accumulate: true });
    e.sumRows({ out: G!, outOff: view(`${p}.bias`).off, x: dP, rows, cols: kD, accumulate: true });
    e.matmul({ c: this.dN!, a: dP, b: P, bOff: w, m: rows, n: D, k: kD, transB: true });
    if (perId) {
      // Each id's input gradient: its positions' residual gradients, plus norm1's backward of
      // their summed dN on the id's row.
      const { lk, ln, grad } = perId, [dRows, dRowsOff] = grad.rows;
      e.embeddingBackward({ dTable: dRows, dTableOff: dRowsOff, dOut: dX1, ids: lk.ids, n, dim: D, vocab: lk.vocab });
      e.rmsNormBackward({
        x: lk.rows[0], xOff: lk.rows[1], w: P, wOff: norm1, rstd: ln.rstd, dOut: this.dN!, dx: dRows, dxOff: dRowsOff, dw: G!, dwOff: norm1,
        rows, cols: D,
      });
      return;
    }
    // norm1's gain gets its gradient even when the input needs none; dx receives residual + branch.
    const target = dx ?? this.dProj!; // any scratch of ≥ n·D floats when dx is not wanted
    e.rmsNormBackward({
      x, xOff, w: P, wOff: norm1, rstd: this.r1!, dOut: this.dN!, dx: target, dw: G!, dwOff: norm1, rows: n, cols: D, residual: dX1,
    });
  }

}
