// The first classic layer's input projection for every character, for the inference plans: row
// v is E[v]·W_x + b. The engine's own product computes it, with the bias first and the sum in
// input order, so each entry has the bits the training forward gives that character, and a step
// looks its row up instead of multiplying (model/layer.ts projectInput does the same for eval).
import { GATES, type Engine, type InferModel, type Tensor } from './engine-api.js';

/** Writes the vocab × (gates·hidden) table into out, from the weights in P (laid out as md says). */
export function inputTable(e: Engine, md: InferModel, P: Tensor, out: Tensor): void {
  const l0 = md.classic[0];
  e.matmul({
    c: out, a: P, aOff: md.embedding, b: P, bOff: l0.wx, m: md.vocab, n: GATES[md.cell] * md.hidden, k: md.embed, bias: P, biasOff: l0.bx,
  });
}
