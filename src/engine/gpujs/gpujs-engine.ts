// The Engine ops as gpu.js kernels, behind the shared checks (../op-layer.ts). Each op runs one or
// more kernels from kernels.ts and commits their outputs; where the data lives is the storage's business.
import type {
  AdamWArgs, BinaryArgs, BroadcastRowArgs, CopyArgs, EmbeddingArgs, EmbeddingBackwardArgs, Engine, GeluBackwardArgs, GeluForwardArgs, InferModel,
  InferPlan, GruBackwardArgs, GruForwardArgs, RecurrentBackwardArgs, RecurrentCell, RecurrentForwardArgs, RecurrentSizes, LstmBackwardArgs, LstmForwardArgs, MatmulArgs, MinScanBackwardArgs, MinScanForwardArgs,
  RmsNormArgs, RmsNormBackwardArgs, SoftmaxXentArgs, SumRowsArgs, SumSquaresArgs, TanhBackwardArgs, Tensor, UnaryArgs, ZeroArgs,
} from '../engine-api.js';
import type { Backend, Checked } from '../op-layer.js';
import type { ArrayArg, Backend as Storage, KernelArg } from './backend.js';
import * as K from './kernels.js';
import * as KC from './kernels-cells.js';
import { ComposedInferPlan, composedPlan } from '../infer-composed.js';
import { scanPassSource } from './kernels-scan.js';
import { FusedRecurrence } from './gpujs-recurrent.js';

/** Sum-of-squares block per partial-sum thread: short enough to keep float32 sums accurate. */
const SUM_CHUNK = 256;
/**
 * Ops whose length is a whole parameter buffer (adamw, sumSquares) run in passes of at most this
 * many elements: webasm and GPU kernels index in float32, exact only below 2^24.
 */
export const MAX_PASS = 1 << 22;

function scanConstants(steps: number, batch: number, h: number, kh: number): Record<string, number> {
  return { h, kh, bs: batch, bh: batch * h, tbh: steps * batch * h, steps };
}

export class GpuJsEngine implements Backend {
  readonly hostView?: (t: Tensor, off: number, len: number) => Float32Array;
  readonly readsBlock: boolean;
  private readonly fused: FusedRecurrence;

  constructor(
    readonly name: string,
    private readonly b: Storage,
  ) {
    if (b.view) this.hostView = b.view.bind(b);
    this.readsBlock = b.device;
    this.fused = new FusedRecurrence(b);
  }

  recurrentSizes(cell: RecurrentCell, steps: number, batch: number, hidden: number): RecurrentSizes {
    return this.fused.sizes(cell, steps, batch, hidden);
  }

  recurrentForward(a: Checked<RecurrentForwardArgs>): boolean { return this.fused.forward(a); }
  recurrentBackward(a: Checked<RecurrentBackwardArgs>): boolean { return this.fused.backward(a); }

  tensor(size: number): Tensor {
    return this.b.tensor(size);
  }

  write(t: Tensor, data: Float32Array, off: number): void {
    this.b.write(t, data, off);
  }

  read(t: Tensor, off: number, len: number): Promise<Float32Array> {
    return this.b.read(t, off, len);
  }

  sync(): Promise<void> {
    return this.b.sync();
  }

  free(t: Tensor): void {
    this.b.drop(t);
  }

  dispose(): void {
    this.b.dispose();
  }

  zero({ out, outOff, len }: Checked<ZeroArgs>): void {
    this.b.zero(out, outOff, len);
  }

  copy({ dst, dstOff, src, srcOff, len }: Checked<CopyArgs>): void {
    this.b.copy(dst, dstOff, src, srcOff, len);
  }

  broadcastRow({ out, outOff, row, rowOff, rows, cols }: Checked<BroadcastRowArgs>): void {
    const [r, rOff] = this.b.range(row, rowOff, cols);
    this.emit(out, outOff, K.broadcastRowSource, rows * cols, { cols }, [r, rOff]);
  }

  mul({ out, outOff, a, aOff, b, bOff, len }: Checked<BinaryArgs>): void {
    if (len === 0) return;
    this.emit(out, outOff, K.mulSource, len, {}, [...this.b.range(a, aOff, len), ...this.b.range(b, bOff, len)]);
  }

  add({ out, outOff, a, aOff, b, bOff, len }: Checked<BinaryArgs>): void {
    this.pointwise(out, outOff, KC.addElementwiseSource, len, [a, aOff], [b, bOff]);
  }

  tanhForward({ out, outOff, x, xOff, len }: Checked<UnaryArgs>): void {
    this.pointwise(out, outOff, KC.tanhForwardSource, len, [x, xOff]);
  }

  tanhBackward({ dx, dxOff, y, yOff, dy, dyOff, len }: Checked<TanhBackwardArgs>): void {
    this.pointwise(dx, dxOff, KC.tanhBackwardSource, len, [y, yOff], [dy, dyOff]);
  }

  geluForward({ out, outOff, x, xOff, len, e, eOff }: Checked<GeluForwardArgs>): void {
    this.pointwise(out, outOff, KC.geluForwardSource, len, [x, xOff]);
    if (e) this.pointwise(e, eOff, KC.geluESource, len, [x, xOff]);
  }

  geluBackward({ dx, dxOff, x, xOff, dy, dyOff, len, e, eOff }: Checked<GeluBackwardArgs>): void {
    if (e) this.pointwise(dx, dxOff, KC.geluBackwardESource, len, [x, xOff], [e, eOff], [dy, dyOff]);
    else this.pointwise(dx, dxOff, KC.geluBackwardSource, len, [x, xOff], [dy, dyOff]);
  }

  gruForward(p: GruForwardArgs): void {
    const h = p.hidden;
    const g = p.batch * h;
    if (g === 0) return;
    const c = { h, h3: 3 * h };
    const gx = this.b.range(p.gx, p.gxOff ?? 0, 3 * g);
    const gh = this.b.range(p.gh, p.ghOff ?? 0, 3 * g);
    // act first; the h pass reads the committed gates (outputs never overlap inputs).
    this.emit(p.act, p.actOff ?? 0, KC.gruActSource, 3 * g, c, [...gx, ...gh]);
    const act = this.b.range(p.act, p.actOff ?? 0, 3 * g);
    this.emit(p.h, p.hOff ?? 0, KC.gruHiddenSource, g, c, [...act, ...this.b.range(p.hPrev, p.hPrevOff ?? 0, g)]);
  }

  gruBackward(p: GruBackwardArgs): void {
    const h = p.hidden;
    const g = p.batch * h;
    if (g === 0) return;
    const c = { h, h3: 3 * h };
    const act = this.b.range(p.act, p.actOff ?? 0, 3 * g);
    const dh = this.b.range(p.dh, p.dhOff ?? 0, g);
    const gateArgs = [...act, ...this.b.range(p.gh, p.ghOff ?? 0, 3 * g), ...this.b.range(p.hPrev, p.hPrevOff ?? 0, g), ...dh];
    // Each output is stored before the next kernel runs: no output range overlaps an input range
    // (the op layer's rule), so none sees another's result; dhPrev's kernel reads the old dhPrev.
    this.emit(p.dGx, p.dGxOff ?? 0, KC.gruBackGatesSource(false), 3 * g, c, gateArgs);
    this.emit(p.dGh, p.dGhOff ?? 0, KC.gruBackGatesSource(true), 3 * g, c, gateArgs);
    this.emit(p.dhPrev, p.dhPrevOff ?? 0, KC.gruBackHPrevSource, g, c, [...act, ...dh, ...this.b.range(p.dhPrev, p.dhPrevOff ?? 0, g)]);
  }

  /**
   * The activations in one data-parallel pass (in row blocks that keep each kernel under the
   * float32 indexing limit), then the scan in ⌈log₄ steps⌉ passes (kernels-scan.ts), the last
   * writing h, and the residual sum: O(steps·batch·H) work per pass, no launch per timestep.
   */
  minScanForward(p: MinScanForwardArgs): void {
    const { steps, batch, hidden: h } = p;
    const kh = (p.cell === 'mingru' ? 2 : 3) * h;
    const g = batch * h;
    if (steps === 0 || g === 0) return;
    const projOff = p.projOff ?? 0, actOff = p.actOff ?? 0, hOff = p.hOff ?? 0;
    const rows = steps * batch;
    const passRows = Math.max(1, Math.floor(MAX_PASS / kh));
    for (let r0 = 0; r0 < rows; r0 += passRows) {
      const n = Math.min(passRows, rows - r0) * kh;
      this.emit(p.act, actOff + r0 * kh, KC.minActSource(p.cell), n, { h, kh }, this.b.range(p.proj, projOff + r0 * kh, n));
    }
    const c = scanConstants(steps, batch, h, kh);
    const act = this.b.range(p.act, actOff, rows * kh);
    let pairs: ArrayArg | null = null;
    for (let d = 1; ; d *= 4) {
      const from: ArrayArg[] | KernelArg[] = pairs ? [pairs] : act;
      if (4 * d >= steps) {
        const h0 = this.b.range(p.h, hOff, g);
        this.emit(p.h, hOff + g, scanPassSource(p.cell, 'forward', pairs ? 'pairs' : 'act', 'result'), steps * g, c, [...from, ...h0, d]);
        break;
      }
      const next = this.b.run(scanPassSource(p.cell, 'forward', pairs ? 'pairs' : 'act', 'pairs'), 2 * steps * g, c, [...from, d]);
      if (pairs) this.b.free(pairs);
      pairs = next;
    }
    if (pairs) this.b.free(pairs);
    if (p.residual && p.sum) this.add({ out: p.sum, outOff: p.sumOff ?? 0, a: p.residual, aOff: p.residualOff ?? 0, b: p.h, bOff: hOff + g, len: steps * g });
  }

  /**
   * The reverse scan G_t = dh_t + a_{t+1}·G_{t+1} in ⌈log₄ steps⌉ passes, then every step's dProj
   * rows from G in one data-parallel pass (in row blocks, as forward).
   */
  minScanBackward(p: MinScanBackwardArgs): void {
    const { steps, batch, hidden: h } = p;
    const kh = (p.cell === 'mingru' ? 2 : 3) * h;
    const g = batch * h;
    if (steps === 0 || g === 0) return;
    const projOff = p.projOff ?? 0, actOff = p.actOff ?? 0, hOff = p.hOff ?? 0, dpOff = p.dProjOff ?? 0;
    const rows = steps * batch;
    const c = scanConstants(steps, batch, h, kh);
    const first = [...this.b.range(p.act, actOff, rows * kh), ...this.b.range(p.dh, p.dhOff ?? 0, rows * h)];
    let pairs: ArrayArg | null = null;
    let gt: ArrayArg;
    for (let d = 1; ; d *= 4) {
      const from: KernelArg[] = pairs ? [pairs] : first;
      const last = 4 * d >= steps;
      const out = this.b.run(scanPassSource(p.cell, 'backward', pairs ? 'pairs' : 'act', last ? 'result' : 'pairs'), (last ? 1 : 2) * steps * g, c, [...from, d]);
      if (pairs) this.b.free(pairs);
      if (last) {
        gt = out;
        break;
      }
      pairs = out;
    }
    const back = KC.minBackSource(p.cell);
    const passRows = Math.max(1, Math.floor(MAX_PASS / kh));
    for (let r0 = 0; r0 < rows; r0 += passRows) {
      const n = Math.min(passRows, rows - r0);
      const args: KernelArg[] = [
        gt!, r0 * h, ...this.b.range(p.act, actOff + r0 * kh, n * kh), ...this.b.range(p.proj, projOff + r0 * kh, n * kh),
        ...this.b.range(p.h, hOff + r0 * h, n * h),
      ];
      this.emit(p.dProj, dpOff + r0 * kh, back, n * kh, { h, kh }, args);
    }
    this.b.free(gt!);
  }

  rmsNormForward(p: RmsNormArgs): void {
    const { rows, cols } = p;
    if (rows * cols === 0) return; // (zero columns: mean(x²) is undefined; nothing is written)
    const x = this.b.range(p.x, p.xOff ?? 0, rows * cols);
    this.emit(p.rstd, p.rstdOff ?? 0, KC.rmsRstdSource, rows, { cols }, [...x, p.eps]);
    const rstd = this.b.range(p.rstd, p.rstdOff ?? 0, rows);
    this.emit(p.out, p.outOff ?? 0, KC.rmsOutSource, rows * cols, { cols }, [...x, ...this.b.range(p.w, p.wOff ?? 0, cols), ...rstd]);
  }

  rmsNormBackward(p: RmsNormBackwardArgs): void {
    const { rows, cols } = p;
    if (rows * cols === 0) return;
    const x = this.b.range(p.x, p.xOff ?? 0, rows * cols);
    const w = this.b.range(p.w, p.wOff ?? 0, cols);
    const rstd = this.b.range(p.rstd, p.rstdOff ?? 0, rows);
    const dOut = this.b.range(p.dOut, p.dOutOff ?? 0, rows * cols);
    const dxIn = p.residual ? this.b.range(p.residual, p.residualOff ?? 0, rows * cols) : this.b.range(p.dx, p.dxOff ?? 0, rows * cols);
    const dwIn = this.b.range(p.dw, p.dwOff ?? 0, cols);
    const k = this.b.run(KC.rmsBackRowSource, rows, { cols }, [...x, ...w, ...rstd, ...dOut]);
    // dx's range overlaps no input but the residual it replaces, so dw's kernel may run after it is stored.
    this.emit(p.dx, p.dxOff ?? 0, KC.rmsBackDxSource, rows * cols, { cols }, [...x, ...w, ...rstd, ...dOut, k, 0, ...dxIn]);
    this.emit(p.dw, p.dwOff ?? 0, KC.rmsBackDwSource, cols, { rows, cols }, [...x, ...rstd, ...dOut, ...dwIn]);
    this.b.free(k);
  }

  sumRows({ out, outOff, x, xOff, rows, cols, accumulate = false }: Checked<SumRowsArgs>): void {
    if (rows === 0) {
      if (!accumulate) this.zero({ out, outOff, len: cols });
      return;
    }
    const args: KernelArg[] = [...this.b.range(x, xOff, rows * cols)];
    if (accumulate) args.push(...this.b.range(out, outOff, cols));
    this.emit(out, outOff, K.sumRowsSource(accumulate), cols, { rows, cols }, args);
  }

  matmul(p: MatmulArgs): void {
    const { m, n, k } = p;
    const acc = p.accumulate ?? false;
    if (k === 0) {
      // No product: C is the bias row broadcast, added to C when accumulating.
      if (p.bias) {
        const row = this.b.range(p.bias, p.biasOff ?? 0, n);
        if (acc) this.emit(p.c, p.cOff ?? 0, K.addRowSource, m * n, { cols: n }, [...this.b.range(p.c, p.cOff ?? 0, m * n), ...row]);
        else this.broadcastRow({ out: p.c, outOff: p.cOff ?? 0, row: p.bias, rowOff: p.biasOff ?? 0, rows: m, cols: n });
      } else if (!acc) {
        this.zero({ out: p.c, outOff: p.cOff ?? 0, len: m * n });
      }
      return;
    }
    const args: KernelArg[] = [...this.b.range(p.a, p.aOff ?? 0, m * k), ...this.b.range(p.b, p.bOff ?? 0, k * n)];
    if (acc) args.push(...this.b.range(p.c, p.cOff ?? 0, m * n));
    if (p.bias) args.push(...this.b.range(p.bias, p.biasOff ?? 0, n));
    const cOff = p.cOff ?? 0;
    if (this.four(cOff, n)) {
      this.b.emit4!(p.c, cOff, m * n, K.matmul4Source(p.transA ?? false, p.transB ?? false, acc, !!p.bias), { m, n, k, n4: n / 4 }, args);
      return;
    }
    const src = K.matmulSource(p.transA ?? false, p.transB ?? false, acc, !!p.bias);
    this.emit(p.c, cOff, src, m * n, { m, n, k }, args);
  }

  /** Device storage can take rows of `width` floats at `off` four a thread (see emit4). */
  private four(off: number, width: number): boolean {
    return !!this.b.emit4 && width % 4 === 0 && off % 4 === 0;
  }

  embedding({ out, outOff, table, tableOff, ids, idsOff, n, dim }: Checked<EmbeddingArgs>): void {
    if (n * dim === 0) return;
    // The rows used are only known from the ids, so the kernel may read the rest of the tensor.
    const args = [...this.b.range(table, tableOff, table.size - tableOff), ...this.b.range(ids, idsOff, n)];
    this.emit(out, outOff, K.embeddingSource, n * dim, { dim }, args);
  }

  embeddingBackward({ dTable, dTableOff, dOut, dOutOff, ids, idsOff, n, dim, vocab }: Checked<EmbeddingBackwardArgs>): void {
    if (n === 0) return;
    const args = [
      ...this.b.range(dTable, dTableOff, vocab * dim), ...this.b.range(dOut, dOutOff, n * dim), ...this.b.range(ids, idsOff, n),
    ];
    if (this.four(dTableOff, dim)) this.b.emit4!(dTable, dTableOff, vocab * dim, K.embeddingBackward4Source, { dim, n, dim4: dim / 4 }, args);
    else this.emit(dTable, dTableOff, K.embeddingBackwardSource, vocab * dim, { dim, n }, args);
  }

  lstmForward(p: LstmForwardArgs): void {
    const h = p.hidden;
    const g = p.batch * h;
    if (g === 0) return;
    const c = { h, h4: 4 * h };
    const act = (): [ArrayArg, number] => this.b.range(p.act, p.actOff ?? 0, 4 * g);
    // Each pass reads what the one before it committed: act, then c, then h.
    this.emit(p.act, p.actOff ?? 0, K.lstmActSource, 4 * g, c, this.b.range(p.pre, p.preOff ?? 0, 4 * g));
    this.emit(p.c, p.cOff ?? 0, K.lstmCellSource, g, c, [...act(), ...this.b.range(p.cPrev, p.cPrevOff ?? 0, g)]);
    this.emit(p.h, p.hOff ?? 0, K.lstmHiddenSource, g, c, [...act(), ...this.b.range(p.c, p.cOff ?? 0, g)]);
  }

  lstmBackward(p: LstmBackwardArgs): void {
    const h = p.hidden;
    const g = p.batch * h;
    if (g === 0) return;
    const c = { h, h4: 4 * h };
    const act = this.b.range(p.act, p.actOff ?? 0, 4 * g);
    const cPrev = this.b.range(p.cPrev, p.cPrevOff ?? 0, g);
    const cell = this.b.range(p.c, p.cOff ?? 0, g);
    const dh = this.b.range(p.dh, p.dhOff ?? 0, g);
    const dcNext = this.b.range(p.dcNext, p.dcNextOff ?? 0, g);
    // dPre's range overlaps none of dcPrev's inputs (the op layer's rule): it may be stored first.
    this.emit(p.dPre, p.dPreOff ?? 0, K.lstmBackPreSource, 4 * g, c, [...act, ...cPrev, ...cell, ...dh, ...dcNext]);
    this.emit(p.dcPrev, p.dcPrevOff ?? 0, K.lstmBackCellSource, g, c, [...act, ...cell, ...dh, ...dcNext]);
  }

  softmaxXent(p: SoftmaxXentArgs): void {
    const { rows, vocab } = p;
    if (rows === 0) return;
    const x = this.b.range(p.logits, p.logitsOff ?? 0, rows * vocab);
    const t = this.b.range(p.targets, p.targetsOff ?? 0, rows);
    const lse = this.b.run(K.logSumExpSource, rows, { vocab }, [...x]);
    if (p.dLogits) this.emit(p.dLogits, p.dLogitsOff ?? 0, K.xentGradSource, rows * vocab, { vocab }, [...x, ...t, lse, p.scale ?? 1]);
    this.emit(p.losses, p.lossesOff ?? 0, K.xentLossSource, rows, { vocab }, [...x, ...t, lse]);
    this.b.free(lse);
  }

  sumSquares({ out, outOff, x, xOff, len }: Checked<SumSquaresArgs>): void {
    if (len === 0) {
      this.zero({ out, outOff, len: 1 });
      return;
    }
    if (len <= MAX_PASS) {
      const parts = Math.ceil(len / SUM_CHUNK);
      const partial = this.b.run(K.sumSquaresPartialSource, parts, { chunk: SUM_CHUNK, len }, [...this.b.range(x, xOff, len)]);
      this.emit(out, outOff, K.sumSource, 1, { len: parts }, [partial]);
      this.b.free(partial);
      return;
    }
    let total: ArrayArg | null = null;
    for (let start = 0; start < len; start += MAX_PASS) {
      const n = Math.min(MAX_PASS, len - start);
      const parts = Math.ceil(n / SUM_CHUNK);
      const range = this.b.range(x, xOff + start, n);
      const partial = this.b.run(K.sumSquaresPartialSource, parts, { chunk: SUM_CHUNK, len: n }, [...range]);
      const sum = this.b.run(K.sumSource, 1, { len: parts }, [partial]);
      this.b.free(partial);
      if (total) {
        const next = this.b.run(K.addSource, 1, {}, [total, sum]);
        this.b.free(total);
        this.b.free(sum);
        total = next;
      } else {
        total = sum;
      }
    }
    this.b.commit(out, outOff, total!, 1);
  }

  // Inference is composed from the ops above, one kernel per piece of the step (no fused kernel).
  inferPrepare(model: InferModel, streams: number, engine: Engine): InferPlan { return new ComposedInferPlan(engine, model, streams); }
  inferStep(plan: InferPlan, ids: ArrayLike<number>, logits: boolean): void { composedPlan(plan).step(ids, logits); }
  inferLogits(plan: InferPlan, out: Float32Array): Promise<void> { return composedPlan(plan).readLogits(out); }
  inferReset(plan: InferPlan): void { composedPlan(plan).reset(); }
  inferReadState(plan: InferPlan): Promise<Float32Array> { return composedPlan(plan).readState(); }
  inferWriteState(plan: InferPlan, state: Float32Array): void { composedPlan(plan).writeState(state); }
  inferRelease(plan: InferPlan): void { composedPlan(plan).release(); }

  adamw(p: AdamWArgs): void {
    for (let start = 0; start < p.len; start += MAX_PASS) {
      this.adamwPass(p, p.off + start, Math.min(MAX_PASS, p.len - start));
    }
  }

  private adamwPass(p: AdamWArgs, off: number, len: number): void {
    const grad = this.b.range(p.grad, off, len);
    // With a norm on the device (host storage never gets one: the op layer reads it there), the
    // clip scale and the skip of a non-finite step are computed in the kernels.
    const clip: KernelArg[] = p.normSq ? [...this.b.range(p.normSq, p.normSqOff ?? 0, 1), p.clip ?? 0] : [p.gradScale];
    const dev = !!p.normSq, masked = !!p.decay;
    this.emit(p.m, off, K.adamMSource(dev), len, {}, [...grad, ...this.b.range(p.m, off, len), p.beta1, ...clip]);
    this.emit(p.v, off, K.adamVSource(dev), len, {}, [...grad, ...this.b.range(p.v, off, len), p.beta2, ...clip]);
    // Bias corrections are per-step scalars, computed once here in double precision.
    const bc1 = 1 - Math.pow(p.beta1, p.step);
    const bc2 = 1 - Math.pow(p.beta2, p.step);
    const args: KernelArg[] = [
      ...this.b.range(p.param, off, len), ...this.b.range(p.m, off, len), ...this.b.range(p.v, off, len),
      p.lr, p.weightDecay, bc1, bc2, p.eps,
    ];
    if (masked) args.push(...this.b.range(p.decay!, off, len));
    if (dev) args.push(...clip);
    this.emit(p.param, off, K.adamParamSource(dev, masked), len, {}, args);
  }

  /**
   * An elementwise kernel over len elements, in passes of at most MAX_PASS so that no kernel
   * outgrows float32 indexing. Each pass reads only its own slice, so in-place use (out at the
   * same offset as an input) stays safe.
   */
  private pointwise(out: Tensor, outOff: number, k: K.KernelSource, len: number, ...inputs: [Tensor, number][]): void {
    for (let start = 0; start < len; start += MAX_PASS) {
      const n = Math.min(MAX_PASS, len - start);
      this.emit(out, outOff + start, k, n, {}, inputs.flatMap(([t, off]) => this.b.range(t, off + start, n)));
    }
  }

  /** Runs one kernel and stores its output at out[outOff, outOff+outLen). */
  private emit(out: Tensor, outOff: number, k: K.KernelSource, outLen: number, constants: Record<string, number>, args: KernelArg[]): void {
    this.b.emit(out, outOff, outLen, k, constants, args);
  }
}
