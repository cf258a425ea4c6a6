// The Elman cell, h_t = tanh(x_t·W_x + h_{t-1}·W_h + b): the baseline the gated cells improve on.
import type { Tensor } from '../engine/engine-api.js';
import { HStateLayer, maskRecurrentGrad, projectInput, projectInputBackward, recurrentWeights, type Layer, type LayerContext } from './layer.js';

export class RnnLayer extends HStateLayer implements Layer {
  private readonly pre: Tensor;   // T·B × H input projections (the engine may add the recurrent product in)
  private readonly saved: Tensor;
  protected readonly h: Tensor;   // (T+1)·B × H
  readonly dOut?: Tensor;
  private readonly dPre?: Tensor;
  private readonly scratch?: Tensor;

  constructor(protected readonly ctx: LayerContext) {
    super();
    const { e, batch: B, seq: T, hidden: H } = ctx;
    const sizes = e.recurrentSizes('rnn', T, B, H);
    this.pre = ctx.alloc(T * B * H);
    this.saved = ctx.alloc(sizes.saved);
    this.h = ctx.alloc((T + 1) * B * H);
    if (ctx.training) {
      this.dOut = ctx.alloc(T * B * H);
      this.dPre = ctx.alloc(T * B * H);
      this.scratch = ctx.alloc(sizes.scratch);
    }
  }

  out(): [Tensor, number] {
    return [this.h, this.ctx.batch * this.ctx.hidden];
  }

  forward(x: Tensor, xOff: number): void {
    const { e, batch: B, seq: T, hidden: H } = this.ctx;
    projectInput(this.ctx, x, xOff, this.pre, H, 'w_x', 'bias');
    const [w, wOff] = recurrentWeights(this.ctx, 'w_h', true);
    e.recurrentForward({ cell: 'rnn', x: this.pre, w, wOff, h: this.h, saved: this.saved, steps: T, batch: B, hidden: H });
  }

  backward(x: Tensor, xOff: number, dx: Tensor | null): void {
    const { e, G, view, prefix, batch: B, seq: T, hidden: H } = this.ctx;
    const [w, wOff] = recurrentWeights(this.ctx, 'w_h', false);
    e.recurrentBackward({ cell: 'rnn', w, wOff, x: this.pre, h: this.h, saved: this.saved, dh: this.dOut!, dx: this.dPre!, scratch: this.scratch!, steps: T, batch: B, hidden: H });
    e.matmul({ c: G!, cOff: view(`${prefix}.w_h`).off, a: this.h, b: this.dPre!, m: H, n: H, k: T * B, transA: true, accumulate: true });
    maskRecurrentGrad(this.ctx, 'w_h');
    projectInputBackward(this.ctx, x, xOff, this.dPre!, H, 'w_x', 'bias', dx);
  }
}
