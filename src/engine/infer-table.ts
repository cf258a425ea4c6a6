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
    const raw = e.tensor(V * n), rstd = e.tensor(V), bias = e.tensor(V * n);
    e.matmul({ c: raw, a: P, aOff: md.embedding, b: P, bOff: l0.wx, m: V, n, k: md.embed });
    e.rmsNormForward({ x: raw, w: P, wOff: l0.normX, out, rstd, rows: V, cols: n, eps: md.eps });
    e.broadcastRow({ out: bias, row: P, rowOff: l0.bx, rows: V, cols: n });
    e.add({ out, a: out, b: bias, len: V * n });
    for (const t of [raw, rstd, bias]) e.free(t);
    return;
  }
  e.matmul({
    c: out, a: P, aOff: md.embedding, b: P, bOff: l0.wx, m: md.vocab, n: GATES[md.cell] * md.hidden, k: md.embed, bias: P, biasOff: l0.bx,
  });
}
