// The Elman cell, h_t = tanh(x_t·W_x + h_{t-1}·W_h + b): the baseline the gated cells improve on.
import type { Tensor } from '../engine/engine.js';
import { carrySlot, type Layer, type LayerContext } from './layer.js';

export class RnnLayer implements Layer {
  private readonly pre: Tensor; // T·B × H
  private readonly h: Tensor;   // (T+1)·B × H
  readonly dOut?: Tensor;
  private readonly dPre?: Tensor;

  constructor(private readonly x: LayerContext) {
    const { e, batch: B, seq: T, hidden: H } = x;
    this.pre = e.tensor(T * B * H);
    this.h = e.tensor((T + 1) * B * H);
    if (x.training) {
      this.dOut = e.tensor(T * B * H);
      this.dPre = e.tensor(T * B * H);
    }
  }

  out(): [Tensor, number] {
    return [this.h, this.x.batch * this.x.hidden];
  }

  forward(x: Tensor, xOff: number): void {
    const { e, P, view, prefix, batch: B, seq: T, hidden: H } = this.x;
    e.broadcastRow(this.pre, 0, P, view(`${prefix}.bias`).off, T * B, H);
    e.matmul({ c: this.pre, a: x, aOff: xOff, b: P, bOff: view(`${prefix}.w_x`).off, m: T * B, n: H, k: this.x.input, accumulate: true });
    const wh = view(`${prefix}.w_h`).off;
    for (let t = 0; t < T; t++) {
      e.matmul({ c: this.pre, cOff: t * B * H, a: this.h, aOff: t * B * H, b: P, bOff: wh, m: B, n: H, k: H, accumulate: true });
      e.tanhForward(this.h, (t + 1) * B * H, this.pre, t * B * H, B * H);
    }
  }

  backward(x: Tensor, xOff: number, dx: Tensor | null): void {
    const { e, P, G, view, prefix, batch: B, seq: T, hidden: H } = this.x;
    const dh = this.dOut!, dPre = this.dPre!, wh = view(`${prefix}.w_h`).off, wx = view(`${prefix}.w_x`).off;
    for (let t = T - 1; t >= 0; t--) {
      e.tanhBackward(dPre, t * B * H, this.h, (t + 1) * B * H, dh, t * B * H, B * H);
      if (t > 0) e.matmul({ c: dh, cOff: (t - 1) * B * H, a: dPre, aOff: t * B * H, b: P, bOff: wh, m: B, n: H, k: H, transB: true, accumulate: true });
    }
    e.matmul({ c: G!, cOff: wx, a: x, aOff: xOff, b: dPre, m: this.x.input, n: H, k: T * B, transA: true, accumulate: true });
    e.matmul({ c: G!, cOff: wh, a: this.h, b: dPre, m: H, n: H, k: T * B, transA: true, accumulate: true });
    e.sumRows(G!, view(`${prefix}.bias`).off, dPre, 0, T * B, H, true);
    if (dx) e.matmul({ c: dx, a: dPre, b: P, bOff: wx, m: T * B, n: this.x.input, k: H, transB: true });
  }

  carry(): void {
    carrySlot(this.x.e, this.h, this.x.batch, this.x.seq, this.x.hidden);
  }

  reset(): void {
    this.x.e.zero(this.h, 0, this.x.batch * this.x.hidden);
  }

  state(): [string, Tensor][] {
    return [['h', this.h]];
  }
}
