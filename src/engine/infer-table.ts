// The first classic layer's input projection for every character, for the inference plans: row
// v is E[v]·W_x + b. The engine's own product computes it, with the bias first and the sum in
// input order, so each entry has the bits the training forward gives that character, and a step
// looks its row up instead of multiplying (model/layer.ts projectInput does the same for eval).
import { GATES, type Engine, type InferModel, type Tensor } from './engine-api.js';

/**
 * Writes the vocab × (gates·hidden) table into out, from the weights in P (laid out as md says).
 * A normalised GRU's rows are rms(E[v]·W_x)·g_x + b_x, by the same ops as its training forward.
 */
export function inputTable(e: Engine, md: InferModel, P: Tensor, out: Tensor): void {
  const l0 = md.classic[0];
  if (l0.normX !== null) {
    const n = GATES[md.cell] * md.hidden, V = md.vocab;
    const raw = e.tensor(V * n), rstd = e.tensor(V), biasRows = e.tensor(V * n);
    e.broadcastRow({ out: biasRows, row: P, rowOff: l0.bx, rows: V, cols: n });
    normedGates(e, { out, a: P, aOff: md.embedding, P, w: l0.wx, gain: l0.normX, biasRows, raw, rstd, rows: V, n, k: md.embed, eps: md.eps });
    for (const t of [raw, rstd, biasRows]) e.free(t);
    return;
  }
  e.matmul({
    c: out, a: P, aOff: md.embedding, b: P, bOff: l0.wx, m: md.vocab, n: GATES[md.cell] * md.hidden, k: md.embed, bias: P, biasOff: l0.bx,
  });
}

export interface NormedGatesArgs {
  out: Tensor; a: Tensor; aOff?: number;
  /** The weights: W at w (k × n), the gain at gain (n). */
  P: Tensor; w: number; gain: number;
  /** The bias on every one of the rows (rows × n), added after the norm. */
  biasRows: Tensor;
  /** Scratch: the raw product (rows × n) and its per-row 1/RMS (rows). */
  raw: Tensor; rstd: Tensor;
  rows: number; n: number; k: number; eps: number;
}

/** out = rms(a·W)·g + bias, a normalised GRU's gate pre-activations, by the ops its training forward uses (model/gru-norm-layer.ts). */
export function normedGates(e: Engine, g: NormedGatesArgs): void {
  e.matmul({ c: g.raw, a: g.a, aOff: g.aOff ?? 0, b: g.P, bOff: g.w, m: g.rows, n: g.n, k: g.k });
  e.rmsNormForward({ x: g.raw, w: g.P, wOff: g.gain, out: g.out, rstd: g.rstd, rows: g.rows, cols: g.n, eps: g.eps });
  e.add({ out: g.out, a: g.out, b: g.biasRows, len: g.rows * g.n });
}
