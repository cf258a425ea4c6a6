// One GRU layer (the cuDNN/PyTorch form: the reset gate multiplies h·W_hn + b_hn), structured
// like the LSTM layer: one large input product per chunk, the recurrence as one engine op (one
// kernel per timestep on a GPU), weight gradients as large products over the chunk.
import type { Tensor } from '../engine/engine-api.js';
import { HStateLayer, maskRecurrentGrad, projectInput, projectInputBackward, recurrentWeights, type Layer, type LayerContext } from './layer.js';

export class GruLayer extends HStateLayer implements Layer {
  private readonly gx: Tensor;    // T·B × 3H input projections [r | z | n]
  private readonly saved: Tensor; // what the recurrence keeps for its backward (gates, recurrent projections)
  protected readonly h: Tensor;   // (T+1)·B × H
  readonly dOut?: Tensor;
  private readonly dGx?: Tensor;
  private readonly dGh?: Tensor;
  private readonly scratch?: Tensor;

  constructor(protected readonly ctx: LayerContext) {
    super();
    const { e, batch: B, seq: T, hidden: H } = ctx;
    const sizes = e.recurrentSizes('gru', T, B, H);
    this.gx = ctx.alloc(T * B * 3 * H);
    this.saved = ctx.alloc(sizes.saved);
    this.h = ctx.alloc((T + 1) * B * H);
    if (ctx.training) {
      this.dOut = ctx.alloc(T * B * H);
      this.dGx = ctx.alloc(T * B * 3 * H);
      this.dGh = ctx.alloc(T * B * 3 * H);
      this.scratch = ctx.alloc(sizes.scratch);
    }
  }

  out(): [Tensor, number] {
    return [this.h, this.ctx.batch * this.ctx.hidden];
  }

  forward(x: Tensor, xOff: number): void {
    const { e, P, view, prefix, batch: B, seq: T, hidden: H } = this.ctx;
    projectInput(this.ctx, x, xOff, this.gx, 3 * H, 'w_x', 'b_x');
    const [w, wOff] = recurrentWeights(this.ctx, 'w_h', true);
    e.recurrentForward({
      cell: 'gru', x: this.gx, w, wOff, bias: P, biasOff: view(`${prefix}.b_h`).off, h: this.h, saved: this.saved, steps: T, batch: B, hidden: H,
    });
  }

  backward(x: Tensor, xOff: number, dx: Tensor | null): void {
    const { e, G, view, prefix, batch: B, seq: T, hidden: H } = this.ctx;
    const [w, wOff] = recurrentWeights(this.ctx, 'w_h', false);
    e.recurrentBackward({
      cell: 'gru', w, wOff, x: this.gx, h: this.h, saved: this.saved, dh: this.dOut!, dx: this.dGx!, dRec: this.dGh!, scratch: this.scratch!,
      steps: T, batch: B, hidden: H,
    });
    e.matmul({ c: G!, cOff: view(`${prefix}.w_h`).off, a: this.h, b: this.dGh!, m: H, n: 3 * H, k: T * B, transA: true, accumulate: true });
    maskRecurrentGrad(this.ctx, 'w_h');
    e.sumRows({ out: G!, outOff: view(`${prefix}.b_h`).off, x: this.dGh!, rows: T * B, cols: 3 * H, accumulate: true });
    projectInputBackward(this.ctx, x, xOff, this.dGx!, 3 * H, 'w_x', 'b_x', dx);
  }
}
