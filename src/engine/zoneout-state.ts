// Zoneout's expected state at inference (src/model/zoneout.ts has the training side):
// h_t = (1 − p)·h̃_t + p·h_{t−1} after each GRU step, from the engine's own ops, for the training
// forward's inference mode and the composed inference plan alike.
import type { Engine, Tensor } from './engine-api.js';

/** Inference: the constants p and 1 − p over one step's n = batch × hidden states, and room for p·h_{t−1}. */
export interface ExpectedState { p: Tensor; q: Tensor; tmp: Tensor }

export function expectedState(e: Engine, alloc: (floats: number) => Tensor, p: number, n: number): ExpectedState {
  const s: ExpectedState = { p: alloc(n), q: alloc(n), tmp: alloc(n) };
  e.write(s.p, new Float32Array(n).fill(p));
  e.write(s.q, new Float32Array(n).fill(1 - p));
  return s;
}

/** h[cur] = (1 − p)·h[cur] + p·h[prev], over n floats: the expected state after the GRU's step. */
export function applyExpectedState(e: Engine, s: ExpectedState, h: Tensor, prevOff: number, curOff: number, n: number): void {
  e.mul({ out: s.tmp, a: h, aOff: prevOff, b: s.p, len: n });
  e.mul({ out: h, outOff: curOff, a: h, aOff: curOff, b: s.q, len: n });
  e.add({ out: h, outOff: curOff, a: h, aOff: curOff, b: s.tmp, len: n });
}
