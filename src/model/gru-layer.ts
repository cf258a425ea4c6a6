// One GRU layer (the cuDNN/PyTorch form: the reset gate multiplies h·W_hn + b_hn), structured
// like the LSTM layer: one large input product per chunk, the recurrence as one engine op (one
// kernel per timestep on a GPU), weight gradients as large products over the chunk.
import type { Tensor } from '../engine/engine-api.js';
import { applyExpectedState } from '../engine/zoneout-state.js';
import { HStateLayer, maskRecurrentGrad, projectInput, projectInputBackward, recurrentWeights, type Layer, type LayerContext } from './layer.js';

export class GruLayer extends HStateLayer implements Layer {
  private readonly gx: Tensor;    // T·B × 3H input projections [r | z | n]
  private readonly saved: Tensor; // what the recurrence keeps for its backward (gates, recurrent projections)
  protected readonly h: Tensor;   // (T+1)·B × H
  readonly dOut?: Tensor;
  private readonly dGx?: Tensor;
  private readonly dGh?: Tensor;
  private readonly scratch?: Tensor;
  /** Inference with zoneout: the expected state is mixed in between timesteps, step by step. */
  private readonly stepwise?: { gh: Tensor; act: Tensor };

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
    if (ctx.zoneout && 'expected' in ctx.zoneout) this.stepwise = { gh: ctx.alloc(T * B * 3 * H), act: ctx.alloc(T * B * 3 * H) };
  }

  out(): [Tensor, number] {
    return [this.h, this.ctx.batch * this.ctx.hidden];
  }

  forward(x: Tensor, xOff: number): void {
    const { e, P, view, prefix, batch: B, seq: T, hidden: H } = this.ctx, G3 = 3 * H;
    projectInput(this.ctx, x, xOff, this.gx, G3, 'w_x', 'b_x');
    // Zoneout in training: a zoned-out unit's update gate is pushed to exactly 1 (zoneout.ts).
    const zo = this.ctx.zoneout;
    if (zo && 'mask' in zo) e.add({ out: this.gx, a: this.gx, b: zo.mask, len: T * B * G3 });
    const [w, wOff] = recurrentWeights(this.ctx, 'w_h', true), bh = view(`${prefix}.b_h`).off;
    const sw = this.stepwise;
    if (!sw || !zo || !('expected' in zo)) {
      e.recurrentForward({ cell: 'gru', x: this.gx, w, wOff, bias: P, biasOff: bh, h: this.h, saved: this.saved, steps: T, batch: B, hidden: H });
      return;
    }
    // Zoneout's expected state comes between one timestep and the next, which the fused recurrence
    // has no room for: inference with zoneout runs the steps one by one.
    for (let t = 0; t < T; t++) {
      e.matmul({ c: sw.gh, cOff: t * B * G3, a: this.h, aOff: t * B * H, b: w, bOff: wOff, m: B, n: G3, k: H, bias: P, biasOff: bh, bCache: t === 0 ? 'store' : 'reuse' });
      e.gruForward({
        gx: this.gx, gxOff: t * B * G3, gh: sw.gh, ghOff: t * B * G3, hPrev: this.h, hPrevOff: t * B * H,
        act: sw.act, actOff: t * B * G3, h: this.h, hOff: (t + 1) * B * H, batch: B, hidden: H,
      });
      applyExpectedState(e, zo.expected, this.h, t * B * H, (t + 1) * B * H, B * H);
    }
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
