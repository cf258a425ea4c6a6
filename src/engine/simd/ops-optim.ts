// Loss, gradient norm and optimizer.
import type { AdamWArgs, SoftmaxXentArgs, Tensor } from '../engine.js';
import { type Ctx, PAR_FLOATS } from './context.js';
import { Op } from './layout.js';
import { checkCount } from './tensor.js';

export function softmaxXent(cx: Ctx, s: SoftmaxXentArgs): void {
  checkCount(s.rows, 'rows'); checkCount(s.vocab, 'vocab');
  if (s.vocab === 0 && s.rows > 0) throw new RangeError('simd engine: softmaxXent needs vocab > 0');
  const tp = cx.at(s.targets, s.targetsOff, s.rows, 'softmaxXent targets');
  cx.ids(tp, s.rows, s.vocab, 'softmaxXent targets');
  const a = cx.args();
  a[0] = cx.at(s.logits, s.logitsOff, s.rows * s.vocab, 'softmaxXent logits'); a[1] = tp;
  a[2] = cx.at(s.losses, s.lossesOff, s.rows, 'softmaxXent losses');
  a[3] = s.dLogits ? cx.at(s.dLogits, s.dLogitsOff, s.rows * s.vocab, 'softmaxXent dLogits') : 0;
  a[4] = s.rows; a[5] = s.vocab; a[6] = s.scale ?? 1;
  cx.exec(Op.SoftmaxXent, s.rows > 1 ? s.rows * s.vocab : 0, PAR_FLOATS / 8);
}

/** Float64 partial sums per fixed-size chunk, then one ordered pass: same result for any thread count. */
export class SumSquares {
  private partials = 0;
  private capacity = 0;

  constructor(private readonly cx: Ctx, private readonly chunk: number) {}

  run(out: Tensor, outOff: number, x: Tensor, xOff: number, len: number): void {
    const cx = this.cx;
    const o = cx.at(out, outOff, 1, 'sumSquares out');
    const xp = cx.at(x, xOff, len, 'sumSquares x');
    const chunks = Math.ceil(len / this.chunk);
    cx.args();
    if (chunks > this.capacity) {
      this.capacity = Math.max(chunks, 2 * this.capacity, 256);
      this.partials = cx.arena.alloc(this.capacity * 8);
    }
    let a = cx.args();
    a[0] = xp; a[1] = len; a[2] = this.partials;
    cx.exec(Op.SumSquaresPartials, len, PAR_FLOATS);
    a = cx.args();
    a[0] = o; a[1] = this.partials; a[2] = chunks;
    cx.exec(Op.SumPartials, 0, 1);
  }
}

export function adamw(cx: Ctx, o: AdamWArgs): void {
  const a = cx.args();
  a[0] = cx.at(o.param, o.off, o.len, 'adamw param'); a[1] = cx.at(o.grad, o.off, o.len, 'adamw grad');
  a[2] = cx.at(o.m, o.off, o.len, 'adamw m'); a[3] = cx.at(o.v, o.off, o.len, 'adamw v');
  a[4] = o.len; a[5] = o.lr; a[6] = o.beta1; a[7] = o.beta2; a[8] = o.eps; a[9] = o.weightDecay;
  a[10] = 1 - Math.pow(o.beta1, o.step); a[11] = 1 - Math.pow(o.beta2, o.step); a[12] = o.gradScale;
  cx.exec(Op.AdamW, o.len, PAR_FLOATS / 2);
}
