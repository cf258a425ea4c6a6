// The Elman cell, h_t = tanh(x_t·W_x + h_{t-1}·W_h + b): the baseline the gated cells improve on.
import type { Tensor } from '../engine/engine-api.js';
import { HStateLayer, maskRecurrentGrad, projectInput, projectInputBackward, recurrentWeights, type Layer, type LayerContext } from './layer.js';

export class RnnLayer extends HStateLayer implements Layer {
  private readonly pre: Tensor; // T·B × H
  protected readonly h: Tensor;   // (T+1)·B × H
  readonly dOut?: Tensor;
  private readonly dPre?: Tensor;

  constructor(protected readonly ctx: LayerContext) {
    super();
    const { batch: B, seq: T, hidden: H } = ctx;
    this.pre = ctx.alloc(T * B * H);
    this.h = ctx.alloc((T + 1) * B * H);
    if (ctx.training) {
      this.dOut = ctx.alloc(T * B * H);
      this.dPre = ctx.alloc(T * B * H);
    }
  }

  out(): [Tensor, number] {
    return [this.h, this.ctx.batch * this.ctx.hidden];
  }

  forward(x: Tensor, xOff: number): void {
    const { e, batch: B, seq: T, hidden: H } = this.ctx;
    projectInput(this.ctx, x, xOff, this.pre, H, 'w_x', 'bias');
    const [W, wh] = recurrentWeights(this.ctx, 'w_h', true);
    for (let t = 0; t < T; t++) {
      e.matmul({ c: this.pre, cOff: t * B * H, a: this.h, aOff: t * B * H, b: W, bOff: wh, m: B, n: H, k: H, accumulate: true, bCache: t === 0 ? 'store' : 'reuse' });
      e.tanhForward({ out: this.h, outOff: (t + 1) * B * H, x: this.pre, xOff: t * B * H, len: B * H });
    }
  }

  backward(x: Tensor, xOff: number, dx: Tensor | null): void {
    const { e, G, view, prefix, batch: B, seq: T, hidden: H } = this.ctx;
    const dh = this.dOut!, dPre = this.dPre!, [W, wh] = recurrentWeights(this.ctx, 'w_h', false);
    for (let t = T - 1; t >= 0; t--) {
      e.tanhBackward({ dx: dPre, dxOff: t * B * H, y: this.h, yOff: (t + 1) * B * H, dy: dh, dyOff: t * B * H, len: B * H });
      if (t > 0) e.matmul({ c: dh, cOff: (t - 1) * B * H, a: dPre, aOff: t * B * H, b: W, bOff: wh, m: B, n: H, k: H, transB: true, accumulate: true, bCache: t === T - 1 ? 'store' : 'reuse' });
    }
    e.matmul({ c: G!, cOff: view(`${prefix}.w_h`).off, a: this.h, b: dPre, m: H, n: H, k: T * B, transA: true, accumulate: true });
    maskRecurrentGrad(this.ctx, 'w_h');
    projectInputBackward(this.ctx, x, xOff, dPre, H, 'w_x', 'bias', dx);
  }

}
