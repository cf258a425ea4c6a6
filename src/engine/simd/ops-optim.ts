// Loss, gradient norm and optimizer. Arguments arrive checked (../op-layer.ts), targets included.
import type { AdamWArgs, SoftmaxXentArgs, SumSquaresArgs } from '../engine-api.js';
import type { Checked } from '../op-layer.js';
import { type Ctx, PAR_FLOATS } from './context.js';
import { AdamWArg, Op, SoftmaxXentArg, SumPartialsArg, SumSquaresPartialsArg } from './op-table.js';

export function softmaxXent(cx: Ctx, s: Checked<SoftmaxXentArgs>): void {
  const a = cx.args();
  a[SoftmaxXentArg.Logits] = cx.ptr(s.logits, s.logitsOff); a[SoftmaxXentArg.Targets] = cx.ptr(s.targets, s.targetsOff);
  a[SoftmaxXentArg.Losses] = cx.ptr(s.losses, s.lossesOff);
  a[SoftmaxXentArg.DLogits] = s.dLogits ? cx.ptr(s.dLogits, s.dLogitsOff) : 0;
  a[SoftmaxXentArg.Rows] = s.rows; a[SoftmaxXentArg.Vocab] = s.vocab; a[SoftmaxXentArg.Scale] = s.scale ?? 1;
  cx.exec(Op.SoftmaxXent, s.rows > 1 ? s.rows * s.vocab : 0, PAR_FLOATS / 8);
}

/** Float64 partial sums per fixed-size chunk, then one ordered pass: same result for any thread count. */
export class SumSquares {
  private partials = 0;
  private capacity = 0;

  constructor(private readonly cx: Ctx, private readonly chunk: number) {}

  run(s: Checked<SumSquaresArgs>): void {
    const cx = this.cx;
    const chunks = Math.ceil(s.len / this.chunk);
    cx.args();
    if (chunks > this.capacity) {
      if (this.capacity) cx.arena.free(this.partials, this.capacity * 8);
      this.capacity = Math.max(chunks, 2 * this.capacity, 256);
      this.partials = cx.arena.alloc(this.capacity * 8);
    }
    let a = cx.args();
    a[SumSquaresPartialsArg.X] = cx.ptr(s.x, s.xOff); a[SumSquaresPartialsArg.Len] = s.len; a[SumSquaresPartialsArg.Partials] = this.partials;
    cx.exec(Op.SumSquaresPartials, s.len, PAR_FLOATS);
    a = cx.args();
    a[SumPartialsArg.Out] = cx.ptr(s.out, s.outOff); a[SumPartialsArg.Partials] = this.partials; a[SumPartialsArg.Count] = chunks;
    cx.exec(Op.SumPartials, 0, 1);
  }
}

export function adamw(cx: Ctx, o: AdamWArgs): void {
  const a = cx.args();
  a[AdamWArg.Param] = cx.ptr(o.param, o.off); a[AdamWArg.Grad] = cx.ptr(o.grad, o.off);
  a[AdamWArg.M] = cx.ptr(o.m, o.off); a[AdamWArg.V] = cx.ptr(o.v, o.off);
  a[AdamWArg.Len] = o.len; a[AdamWArg.Lr] = o.lr; a[AdamWArg.Beta1] = o.beta1; a[AdamWArg.Beta2] = o.beta2; a[AdamWArg.Eps] = o.eps;
  a[AdamWArg.WeightDecay] = o.weightDecay;
  a[AdamWArg.Bc1] = 1 - Math.pow(o.beta1, o.step); a[AdamWArg.Bc2] = 1 - Math.pow(o.beta2, o.step); a[AdamWArg.GradScale] = o.gradScale;
  cx.exec(Op.AdamW, o.len, PAR_FLOATS / 2);
}
