// A GRU layer with RMS-normalised gate pre-activations (Ba et al. 2016's layer-normalised cells,
// with RMSNorm; config.ts gateNorm): x·W_x and h·W_h are each normalised over their 3H gates and
// scaled by a learned gain (norm_x, norm_h) before b_x and b_h are added. The norm of h·W_h sits
// inside the recurrence, where the fused recurrent op (gru-layer.ts) has no room for it, so this
// layer runs the recurrence one timestep at a time: product, norm, cell.
import type { Tensor } from '../engine/engine-api.js';
import { applyExpectedState } from '../engine/zoneout-state.js';
import { HStateLayer, maskRecurrentGrad, projectInput, projectInputBackward, recurrentWeights, type Layer, type LayerContext } from './layer.js';
import { RMS_EPS } from './minblock.js';

export class GruNormLayer extends HStateLayer implements Layer {
  private readonly gx: Tensor;  // T·B × 3H normalised input projections + b_x [r | z | n]
  private readonly gh: Tensor;  // T·B × 3H normalised recurrent projections + b_h, kept for the n gate's gradient
  private readonly act: Tensor; // T·B × 3H
  protected readonly h: Tensor; // (T+1)·B × H
  /** The raw products (the norms' inputs) and their per-row 1/RMS. */
  private readonly gxRaw: Tensor;
  private readonly ghRaw: Tensor;
  private readonly rstdX: Tensor;
  private readonly rstdH: Tensor;
  /** The biases broadcast to every row, added after the norms. */
  private readonly bx: Tensor;
  private readonly bh: Tensor;
  readonly dOut?: Tensor;
  private readonly dGx?: Tensor;
  private readonly dGh?: Tensor;
  private readonly dGxRaw?: Tensor;
  private readonly dGhRaw?: Tensor;
  private readonly sink?: Tensor; // receives the (unused) gradient w.r.t. the carried-in state

  constructor(protected readonly ctx: LayerContext) {
    super();
    const { batch: B, seq: T, hidden: H } = ctx, N = T * B * 3 * H;
    [this.gx, this.gh, this.act, this.gxRaw, this.ghRaw, this.bx] = [N, N, N, N, N, N].map((n) => ctx.alloc(n));
    this.h = ctx.alloc((T + 1) * B * H);
    this.rstdX = ctx.alloc(T * B);
    this.rstdH = ctx.alloc(T * B);
    this.bh = ctx.alloc(B * 3 * H);
    if (ctx.training) {
      this.dOut = ctx.alloc(T * B * H);
      [this.dGx, this.dGh, this.dGxRaw, this.dGhRaw] = [N, N, N, N].map((n) => ctx.alloc(n));
      this.sink = ctx.alloc(B * H);
    }
  }

  out(): [Tensor, number] {
    return [this.h, this.ctx.batch * this.ctx.hidden];
  }

  forward(x: Tensor, xOff: number): void {
    const { e, P, view, prefix, batch: B, seq: T, hidden: H } = this.ctx, G3 = 3 * H;
    // gx = rms(x·W_x)·g_x + b_x over all T·B rows at once.
    projectInput(this.ctx, x, xOff, this.gxRaw, G3, 'w_x', null);
    e.rmsNormForward({ x: this.gxRaw, w: P, wOff: view(`${prefix}.norm_x`).off, out: this.gx, rstd: this.rstdX, rows: T * B, cols: G3, eps: RMS_EPS });
    e.broadcastRow({ out: this.bx, row: P, rowOff: view(`${prefix}.b_x`).off, rows: T * B, cols: G3 });
    e.add({ out: this.gx, a: this.gx, b: this.bx, len: T * B * G3 });
    e.broadcastRow({ out: this.bh, row: P, rowOff: view(`${prefix}.b_h`).off, rows: B, cols: G3 });
    // Zoneout in training: a zoned-out unit's update gate is pushed to exactly 1 (zoneout.ts).
    const zo = this.ctx.zoneout;
    if (zo && 'mask' in zo) e.add({ out: this.gx, a: this.gx, b: zo.mask, len: T * B * G3 });
    const expected = zo && 'expected' in zo ? zo.expected : null;
    const [W, wh] = recurrentWeights(this.ctx, 'w_h', true), gain = view(`${prefix}.norm_h`).off;
    for (let t = 0; t < T; t++) {
      const o = t * B * G3;
      e.matmul({ c: this.ghRaw, cOff: o, a: this.h, aOff: t * B * H, b: W, bOff: wh, m: B, n: G3, k: H, bCache: t === 0 ? 'store' : 'reuse' });
      e.rmsNormForward({ x: this.ghRaw, xOff: o, w: P, wOff: gain, out: this.gh, outOff: o, rstd: this.rstdH, rstdOff: t * B, rows: B, cols: G3, eps: RMS_EPS });
      e.add({ out: this.gh, outOff: o, a: this.gh, aOff: o, b: this.bh, len: B * G3 });
      e.gruForward({
        gx: this.gx, gxOff: o, gh: this.gh, ghOff: o, hPrev: this.h, hPrevOff: t * B * H,
        act: this.act, actOff: o, h: this.h, hOff: (t + 1) * B * H, batch: B, hidden: H,
      });
      if (expected) applyExpectedState(e, expected, this.h, t * B * H, (t + 1) * B * H, B * H);
    }
  }

  backward(x: Tensor, xOff: number, dx: Tensor | null): void {
    const { e, P, G, view, prefix, batch: B, seq: T, hidden: H } = this.ctx, G3 = 3 * H;
    const dh = this.dOut!, dGx = this.dGx!, dGh = this.dGh!, dRawH = this.dGhRaw!, dRawX = this.dGxRaw!;
    const [W, wh] = recurrentWeights(this.ctx, 'w_h', false), gainH = view(`${prefix}.norm_h`).off;
    // W_h and h_{t−1} see the raw product's gradient; b_h sees dGh itself.
    e.zero({ out: dRawH });
    for (let t = T - 1; t >= 0; t--) {
      const o = t * B * G3;
      e.gruBackward({
        act: this.act, actOff: o, gh: this.gh, ghOff: o, hPrev: this.h, hPrevOff: t * B * H,
        dh, dhOff: t * B * H, dGx, dGxOff: o, dGh, dGhOff: o,
        dhPrev: t > 0 ? dh : this.sink!, dhPrevOff: t > 0 ? (t - 1) * B * H : 0, batch: B, hidden: H,
      });
      e.rmsNormBackward({ x: this.ghRaw, xOff: o, w: P, wOff: gainH, rstd: this.rstdH, rstdOff: t * B, dOut: dGh, dOutOff: o, dx: dRawH, dxOff: o, dw: G!, dwOff: gainH, rows: B, cols: G3 });
      if (t > 0) e.matmul({ c: dh, cOff: (t - 1) * B * H, a: dRawH, aOff: o, b: W, bOff: wh, m: B, n: H, k: G3, transB: true, accumulate: true, bCache: t === T - 1 ? 'store' : 'reuse' });
    }
    e.matmul({ c: G!, cOff: view(`${prefix}.w_h`).off, a: this.h, b: dRawH, m: H, n: G3, k: T * B, transA: true, accumulate: true });
    maskRecurrentGrad(this.ctx, 'w_h');
    e.sumRows({ out: G!, outOff: view(`${prefix}.b_h`).off, x: dGh, rows: T * B, cols: G3, accumulate: true });
    const gainX = view(`${prefix}.norm_x`).off;
    e.sumRows({ out: G!, outOff: view(`${prefix}.b_x`).off, x: dGx, rows: T * B, cols: G3, accumulate: true });
    e.zero({ out: dRawX });
    e.rmsNormBackward({ x: this.gxRaw, w: P, wOff: gainX, rstd: this.rstdX, dOut: dGx, dx: dRawX, dw: G!, dwOff: gainX, rows: T * B, cols: G3 });
    projectInputBackward(this.ctx, x, xOff, dRawX, G3, 'w_x', null, dx);
  }
}
