// One LSTM layer over a chunk of T timesteps for B sequences, time-major (row = t·B + b).
// The input projection of all timesteps is one large product; only the recurrent product
// h_{t-1}·W_h stays per timestep. Backward mirrors it: per-timestep work is the cell and the
// recurrent product, and the weight gradients are single large products over the whole chunk.
import type { Tensor } from '../engine/engine-api.js';
import { carrySlot, maskRecurrentGrad, projectInput, projectInputBackward, recurrentWeights, type Layer, type LayerContext } from './layer.js';

export class LstmLayer implements Layer {
  private readonly pre: Tensor; // T·B × 4H pre-activations
  private readonly act: Tensor; // T·B × 4H activated gates
  private readonly h: Tensor;   // (T+1)·B × H; slot 0 holds the state carried in
  private readonly c: Tensor;   // (T+1)·B × H
  readonly dOut?: Tensor;       // T·B × H
  private readonly dPre?: Tensor;
  private readonly dc?: [Tensor, Tensor]; // ping-pong: an op's output must not alias its input

  constructor(private readonly x: LayerContext) {
    const { batch: B, seq: T, hidden: H } = x;
    this.pre = x.alloc(T * B * 4 * H);
    this.act = x.alloc(T * B * 4 * H);
    this.h = x.alloc((T + 1) * B * H);
    this.c = x.alloc((T + 1) * B * H);
    if (x.training) {
      this.dOut = x.alloc(T * B * H);
      this.dPre = x.alloc(T * B * 4 * H);
      this.dc = [x.alloc(B * H), x.alloc(B * H)];
    }
  }

  out(): [Tensor, number] {
    return [this.h, this.x.batch * this.x.hidden];
  }

  forward(x: Tensor, xOff: number): void {
    const { e, batch: B, seq: T, hidden: H } = this.x, G4 = 4 * H;
    projectInput(this.x, x, xOff, this.pre, G4, 'w_x', 'bias');
    const [W, wh] = recurrentWeights(this.x, 'w_h', true);
    for (let t = 0; t < T; t++) {
      e.matmul({ c: this.pre, cOff: t * B * G4, a: this.h, aOff: t * B * H, b: W, bOff: wh, m: B, n: G4, k: H, accumulate: true, bCache: t === 0 ? 'store' : 'reuse' });
      e.lstmForward({
        pre: this.pre, preOff: t * B * G4, act: this.act, actOff: t * B * G4,
        cPrev: this.c, cPrevOff: t * B * H, c: this.c, cOff: (t + 1) * B * H, h: this.h, hOff: (t + 1) * B * H,
        batch: B, hidden: H,
      });
    }
  }

  backward(x: Tensor, xOff: number, dx: Tensor | null): void {
    const { e, G, view, prefix, batch: B, seq: T, hidden: H } = this.x, G4 = 4 * H;
    const dh = this.dOut!, dPre = this.dPre!, dc = this.dc!, [W, wh] = recurrentWeights(this.x, 'w_h', false);
    e.zero({ out: dc[0] });
    let cur = 0;
    for (let t = T - 1; t >= 0; t--) {
      e.lstmBackward({
        act: this.act, actOff: t * B * G4, cPrev: this.c, cPrevOff: t * B * H, c: this.c, cOff: (t + 1) * B * H,
        dh, dhOff: t * B * H, dcNext: dc[cur], dPre, dPreOff: t * B * G4, dcPrev: dc[1 - cur],
        batch: B, hidden: H,
      });
      cur = 1 - cur;
      if (t > 0) e.matmul({ c: dh, cOff: (t - 1) * B * H, a: dPre, aOff: t * B * G4, b: W, bOff: wh, m: B, n: H, k: G4, transB: true, accumulate: true, bCache: t === T - 1 ? 'store' : 'reuse' });
    }
    e.matmul({ c: G!, cOff: view(`${prefix}.w_h`).off, a: this.h, b: dPre, m: H, n: G4, k: T * B, transA: true, accumulate: true });
    maskRecurrentGrad(this.x, 'w_h');
    projectInputBackward(this.x, x, xOff, dPre, G4, 'w_x', 'bias', dx);
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
