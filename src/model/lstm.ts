// One LSTM layer over a chunk of T timesteps for B sequences, time-major (row = t·B + b).
// The input projection of all timesteps is one large product; only the recurrent product
// h_{t-1}·W_h stays per timestep. Backward mirrors it: per-timestep work is the cell and the
// recurrent product, and the weight gradients are single large products over the whole chunk.
import type { Engine, Tensor } from '../engine/engine.js';
import type { ParamView } from './params.js';

export interface LstmWeights {
  wx: ParamView;
  wh: ParamView;
  bias: ParamView;
  input: number;
  hidden: number;
}

export interface LstmBuffers {
  pre: Tensor;  // T·B × 4H pre-activations
  act: Tensor;  // T·B × 4H activated gates
  h: Tensor;    // (T+1)·B × H; slot 0 holds the state carried in
  c: Tensor;    // (T+1)·B × H
  dh?: Tensor;  // T·B × H, gradient w.r.t. this layer's outputs (filled by the layer above)
  dPre?: Tensor; // T·B × 4H
  dc?: [Tensor, Tensor]; // B × H, ping-pong: an op's output must not alias its input
}

export function lstmBuffers(e: Engine, w: LstmWeights, B: number, T: number, training: boolean): LstmBuffers {
  const H = w.hidden;
  const buf: LstmBuffers = {
    pre: e.tensor(T * B * 4 * H),
    act: e.tensor(T * B * 4 * H),
    h: e.tensor((T + 1) * B * H),
    c: e.tensor((T + 1) * B * H),
  };
  if (training) {
    buf.dh = e.tensor(T * B * H);
    buf.dPre = e.tensor(T * B * 4 * H);
    buf.dc = [e.tensor(B * H), e.tensor(B * H)];
  }
  return buf;
}

export function lstm_forward(e: Engine, P: Tensor, w: LstmWeights, buf: LstmBuffers, x: Tensor, xOff: number, B: number, T: number): void {
  const H = w.hidden, G = 4 * H;
  e.broadcastRow(buf.pre, 0, P, w.bias.off, T * B, G);
  e.matmul({ c: buf.pre, a: x, aOff: xOff, b: P, bOff: w.wx.off, m: T * B, n: G, k: w.input, accumulate: true });
  for (let t = 0; t < T; t++) {
    e.matmul({ c: buf.pre, cOff: t * B * G, a: buf.h, aOff: t * B * H, b: P, bOff: w.wh.off, m: B, n: G, k: H, accumulate: true });
    e.lstmForward({
      pre: buf.pre, preOff: t * B * G, act: buf.act, actOff: t * B * G,
      cPrev: buf.c, cPrevOff: t * B * H, c: buf.c, cOff: (t + 1) * B * H, h: buf.h, hOff: (t + 1) * B * H,
      batch: B, hidden: H,
    });
  }
}

/**
 * Accumulates the weight gradients into Gr and, when dx is given, writes the gradient w.r.t.
 * the layer input there (T·B × input). Expects buf.dh filled; consumes it.
 */
export function lstm_backward(
  e: Engine, P: Tensor, Gr: Tensor, w: LstmWeights, buf: LstmBuffers,
  x: Tensor, xOff: number, dx: Tensor | null, B: number, T: number,
): void {
  const H = w.hidden, G = 4 * H;
  const dh = buf.dh!, dPre = buf.dPre!, dc = buf.dc!;
  e.zero(dc[0]);
  let cur = 0;
  for (let t = T - 1; t >= 0; t--) {
    e.lstmBackward({
      act: buf.act, actOff: t * B * G, cPrev: buf.c, cPrevOff: t * B * H, c: buf.c, cOff: (t + 1) * B * H,
      dh, dhOff: t * B * H, dcNext: dc[cur], dPre, dPreOff: t * B * G, dcPrev: dc[1 - cur],
      batch: B, hidden: H,
    });
    cur = 1 - cur;
    if (t > 0) {
      e.matmul({ c: dh, cOff: (t - 1) * B * H, a: dPre, aOff: t * B * G, b: P, bOff: w.wh.off, m: B, n: H, k: G, transB: true, accumulate: true });
    }
  }
  e.matmul({ c: Gr, cOff: w.wx.off, a: x, aOff: xOff, b: dPre, m: w.input, n: G, k: T * B, transA: true, accumulate: true });
  e.matmul({ c: Gr, cOff: w.wh.off, a: buf.h, b: dPre, m: H, n: G, k: T * B, transA: true, accumulate: true });
  e.sumRows(Gr, w.bias.off, dPre, 0, T * B, G, true);
  if (dx) e.matmul({ c: dx, a: dPre, b: P, bOff: w.wx.off, m: T * B, n: w.input, k: G, transB: true });
}

/** Makes the last timestep's state the initial state of the next chunk. */
export function lstm_carry(e: Engine, buf: LstmBuffers, B: number, T: number, H: number): void {
  e.copy(buf.h, 0, buf.h, T * B * H, B * H);
  e.copy(buf.c, 0, buf.c, T * B * H, B * H);
}

export function lstm_reset(e: Engine, buf: LstmBuffers, B: number, H: number): void {
  e.zero(buf.h, 0, B * H);
  e.zero(buf.c, 0, B * H);
}
