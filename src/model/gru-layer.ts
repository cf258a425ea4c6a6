// One GRU layer (the cuDNN/PyTorch form: the reset gate multiplies h·W_hn + b_hn), structured
// like the LSTM layer: one large input product per chunk, per-timestep recurrent product and
// cell, weight gradients as large products over the chunk.
import type { Tensor } from '../engine/engine-api.js';
import { applyExpectedState } from '../engine/zoneout-state.js';
import { HStateLayer, maskRecurrentGrad, projectInput, projectInputBackward, recurrentWeights, type Layer, type LayerContext } from './layer.js';

export class GruLayer extends HStateLayer implements Layer {
  private readonly gx: Tensor;  // T·B × 3H input projections [r | z | n]
  private readonly gh: Tensor;  // T·B × 3H recurrent projections, kept for the n gate's gradient
  private readonly act: Tensor; // T·B × 3H
  protected readonly h: Tensor;   // (T+1)·B × H
  readonly dOut?: Tensor;
  private readonly dGx?: Tensor;
  private readonly dGh?: Tensor;
  private readonly sink?: Tensor; // receives the (unused) gradient w.r.t. the carried-in state

  constructor(protected readonly ctx: LayerContext) {
    super();
    const { batch: B, seq: T, hidden: H } = ctx;
    this.gx = ctx.alloc(T * B * 3 * H);
    this.gh = ctx.alloc(T * B * 3 * H);
    this.act = ctx.alloc(T * B * 3 * H);
    this.h = ctx.alloc((T + 1) * B * H);
    if (ctx.training) {
      this.dOut = ctx.alloc(T * B * H);
      this.dGx = ctx.alloc(T * B * 3 * H);
      this.dGh = ctx.alloc(T * B * 3 * H);
      this.sink = ctx.alloc(B * H);
    }
  }

  out(): [Tensor, number] {
    return [this.h, this.ctx.batch * this.ctx.hidden];
  }

  forward(x: Tensor, xOff: number): void {
    const { e, P, view, prefix, batch: B, seq: T, hidden: H } = this.ctx, G3 = 3 * H;
    projectInput(this.ctx, x, xOff, this.gx, G3, 'w_x', 'b_x');
    const zo = this.ctx.zoneout;
    if (zo && 'mask' in zo) e.add({ out: this.gx, a: this.gx, b: zo.mask, len: T * B * G3 });
    const expected = zo && 'expected' in zo ? zo.expected : null;
    const [W, wh] = recurrentWeights(this.ctx, 'w_h', true), bh = view(`${prefix}.b_h`).off;
    for (let t = 0; t < T; t++) {
      e.matmul({
        c: this.gh, cOff: t * B * G3, a: this.h, aOff: t * B * H, b: W, bOff: wh, m: B, n: G3, k: H, bias: P, biasOff: bh,
        bCache: t === 0 ? 'store' : 'reuse',
      });
      e.gruForward({
        gx: this.gx, gxOff: t * B * G3, gh: this.gh, ghOff: t * B * G3, hPrev: this.h, hPrevOff: t * B * H,
        act: this.act, actOff: t * B * G3, h: this.h, hOff: (t + 1) * B * H, batch: B, hidden: H,
      });
      if (expected) applyExpectedState(e, expected, this.h, t * B * H, (t + 1) * B * H, B * H);
    }
  }

  backward(x: Tensor, xOff: number, dx: Tensor | null): void {
    const { e, G, view, prefix, batch: B, seq: T, hidden: H } = this.ctx, G3 = 3 * H;
    const dh = this.dOut!, dGx = this.dGx!, dGh = this.dGh!, [W, wh] = recurrentWeights(this.ctx, 'w_h', false);
    for (let t = T - 1; t >= 0; t--) {
      e.gruBackward({
        act: this.act, actOff: t * B * G3, gh: this.gh, ghOff: t * B * G3, hPrev: this.h, hPrevOff: t * B * H,
        dh, dhOff: t * B * H, dGx, dGxOff: t * B * G3, dGh, dGhOff: t * B * G3,
        dhPrev: t > 0 ? dh : this.sink!, dhPrevOff: t > 0 ? (t - 1) * B * H : 0, batch: B, hidden: H,
      });
      if (t > 0) e.matmul({ c: dh, cOff: (t - 1) * B * H, a: dGh, aOff: t * B * G3, b: W, bOff: wh, m: B, n: H, k: G3, transB: true, accumulate: true, bCache: t === T - 1 ? 'store' : 'reuse' });
    }
    e.matmul({ c: G!, cOff: view(`${prefix}.w_h`).off, a: this.h, b: dGh, m: H, n: G3, k: T * B, transA: true, accumulate: true });
    maskRecurrentGrad(this.ctx, 'w_h');
    e.sumRows({ out: G!, outOff: view(`${prefix}.b_h`).off, x: dGh, rows: T * B, cols: G3, accumulate: true });
    projectInputBackward(this.ctx, x, xOff, dGx, G3, 'w_x', 'b_x', dx);
  }

}
