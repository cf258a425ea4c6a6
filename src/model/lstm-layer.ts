// One LSTM layer over a chunk of T timesteps for B sequences, time-major (row = t·B + b).
// The input projection of all timesteps is one large product; the recurrence (h_{t-1}·W_h and the
// cell, every step) is one engine op, which a GPU runs as one kernel per timestep. Backward
// mirrors it: the recurrence's gradient is one op, and the weight gradients are single large
// products over the whole chunk.
import type { Tensor } from '../engine/engine-api.js';
import { carrySlot, maskRecurrentGrad, projectInput, projectInputBackward, recurrentWeights, type Layer, type LayerContext } from './layer.js';

export class LstmLayer implements Layer {
  private readonly pre: Tensor;   // T·B × 4H input projections (the engine may add the recurrent product in)
  private readonly saved: Tensor; // what the recurrence keeps for its backward (the gates)
  private readonly h: Tensor;     // (T+1)·B × H; slot 0 holds the state carried in
  private readonly c: Tensor;     // (T+1)·B × H
  readonly dOut?: Tensor;         // T·B × H
  private readonly dPre?: Tensor;
  private readonly scratch?: Tensor;

  constructor(private readonly x: LayerContext) {
    const { e, batch: B, seq: T, hidden: H } = x;
    const sizes = e.recurrentSizes('lstm', T, B, H);
    this.pre = x.alloc(T * B * 4 * H);
    this.saved = x.alloc(sizes.saved);
    this.h = x.alloc((T + 1) * B * H);
    this.c = x.alloc((T + 1) * B * H);
    if (x.training) {
      this.dOut = x.alloc(T * B * H);
      this.dPre = x.alloc(T * B * 4 * H);
      this.scratch = x.alloc(sizes.scratch);
    }
  }

  out(): [Tensor, number] {
    return [this.h, this.x.batch * this.x.hidden];
  }

  forward(x: Tensor, xOff: number): void {
    const { e, batch: B, seq: T, hidden: H } = this.x;
    projectInput(this.x, x, xOff, this.pre, 4 * H, 'w_x', 'bias');
    const [w, wOff] = recurrentWeights(this.x, 'w_h', true);
    e.recurrentForward({ cell: 'lstm', x: this.pre, w, wOff, h: this.h, c: this.c, saved: this.saved, steps: T, batch: B, hidden: H });
  }

  backward(x: Tensor, xOff: number, dx: Tensor | null): void {
    const { e, G, view, prefix, batch: B, seq: T, hidden: H } = this.x;
    const [w, wOff] = recurrentWeights(this.x, 'w_h', false);
    e.recurrentBackward({
      cell: 'lstm', w, wOff, x: this.pre, h: this.h, c: this.c, saved: this.saved, dh: this.dOut!, dx: this.dPre!, scratch: this.scratch!, steps: T, batch: B, hidden: H,
    });
    e.matmul({ c: G!, cOff: view(`${prefix}.w_h`).off, a: this.h, b: this.dPre!, m: H, n: 4 * H, k: T * B, transA: true, accumulate: true });
    maskRecurrentGrad(this.x, 'w_h');
    projectInputBackward(this.x, x, xOff, this.dPre!, 4 * H, 'w_x', 'bias', dx);
  }

  carry(): void {
    const { e, batch: B, seq: T, hidden: H } = this.x;
    carrySlot(e, this.h, B, T, H);
    carrySlot(e, this.c, B, T, H);
  }

  reset(): void {
    const n = this.x.batch * this.x.hidden;
    this.x.e.zero({ out: this.h, len: n });
    this.x.e.zero({ out: this.c, len: n });
  }

  state(): [string, Tensor][] {
    return [['h', this.h], ['c', this.c]];
  }
}
