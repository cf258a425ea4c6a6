// The Engine ops as gpu.js kernels, behind the shared checks (../op-layer.ts). Each op runs one or
// more kernels from kernels.ts and commits their outputs; where the data lives is the storage's business.
import type {
  AdamWArgs, BinaryArgs, BroadcastRowArgs, CopyArgs, EmbeddingArgs, EmbeddingBackwardArgs, Engine, GeluBackwardArgs, GeluForwardArgs, InferModel,
  InferPlan, GruBackwardArgs, GruForwardArgs, LstmBackwardArgs, LstmForwardArgs, MatmulArgs, MinScanBackwardArgs, MinScanForwardArgs,
  RmsNormArgs, RmsNormBackwardArgs, SoftmaxXentArgs, SumRowsArgs, SumSquaresArgs, TanhBackwardArgs, Tensor, UnaryArgs, ZeroArgs,
} from '../engine-api.js';
import type { Backend, Checked } from '../op-layer.js';
import type { ArrayArg, Backend as Storage, KernelArg } from './backend.js';
import * as K from './kernels.js';
import * as KC from './kernels-cells.js';
import { ComposedInferPlan, composedPlan } from '../infer-composed.js';

/** Sum-of-squares block per partial-sum thread: short enough to keep float32 sums accurate. */
const SUM_CHUNK = 256;
/**
 * Ops whose length is a whole parameter buffer (adamw, sumSquares) run in passes of at most this
 * many elements: webasm and GPU kernels index in float32, exact only below 2^24.
 */
export const MAX_PASS = 1 << 22;

export class GpuJsEngine implements Backend {
  readonly hostView?: (t: Tensor, off: number, len: number) => Float32Array;

  constructor(
    readonly name: string,
    private readonly b: Storage,
  ) {
    if (b.view) this.hostView = b.view.bind(b);
  }

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
    // All three kernels run before any output is stored: none may see another's result, and
    // dhPrev's kernel reads the old dhPrev.
    const dGx = this.b.run(KC.gruBackGatesSource(false), 3 * g, c, gateArgs);
    const dGh = this.b.run(KC.gruBackGatesSource(true), 3 * g, c, gateArgs);
    const dhPrev = this.b.run(KC.gruBackHPrevSource, g, c, [...act, ...dh, ...this.b.range(p.dhPrev, p.dhPrevOff ?? 0, g)]);
    this.b.commit(p.dGx, p.dGxOff ?? 0, dGx, 3 * g);
    this.b.commit(p.dGh, p.dGhOff ?? 0, dGh, 3 * g);
    this.b.commit(p.dhPrev, p.dhPrevOff ?? 0, dhPrev, g);
  }

  /**
   * The activations in one data-parallel pass (in row blocks that keep each kernel under the
   * float32 indexing limit), then the scan as one batch×H kernel per timestep, each reading the
   * slot the one before it committed: O(steps·batch·H) work, steps launches.
   */
  minScanForward(p: MinScanForwardArgs): void {
    const { steps, batch, hidden: h } = p;
    const kh = (p.cell === 'mingru' ? 2 : 3) * h;
    const g = batch * h;
    if (steps === 0 || g === 0) return;
    const c = { h, kh };
    const projOff = p.projOff ?? 0, actOff = p.actOff ?? 0, hOff = p.hOff ?? 0;
    const rows = steps * batch;
    const passRows = Math.max(1, Math.floor(MAX_PASS / kh));
    for (let r0 = 0; r0 < rows; r0 += passRows) {
      const n = Math.min(passRows, rows - r0) * kh;
      this.emit(p.act, actOff + r0 * kh, KC.minActSource(p.cell), n, c, this.b.range(p.proj, projOff + r0 * kh, n));
    }
    const step = KC.minStepSource(p.cell);
    for (let t = 0; t < steps; t++) {
      const args = [...this.b.range(p.act, actOff + t * batch * kh, batch * kh), ...this.b.range(p.h, hOff + t * g, g)];
      this.emit(p.h, hOff + (t + 1) * g, step, g, c, args);
    }
    if (p.residual && p.sum) this.add({ out: p.sum, outOff: p.sumOff ?? 0, a: p.residual, aOff: p.residualOff ?? 0, b: p.h, bOff: hOff + g, len: steps * g });
  }

  /**
   * Backwards over time, two kernels per timestep: the total gradient reaching h_t
   * (G_t = dh_t + G_{t+1}·a_{t+1}, kept as an uncommitted kernel output and freed once the next
   * step has read it), then that step's dProj rows from G_t.
   */
  minScanBackward(p: MinScanBackwardArgs): void {
    const { steps, batch, hidden: h } = p;
    const kh = (p.cell === 'mingru' ? 2 : 3) * h;
    const g = batch * h;
    if (steps === 0 || g === 0) return;
    const c = { h, kh };
    const projOff = p.projOff ?? 0, actOff = p.actOff ?? 0, hOff = p.hOff ?? 0, dhOff = p.dhOff ?? 0, dpOff = p.dProjOff ?? 0;
    const rowLen = batch * kh;
    const carry = KC.minCarrySource(p.cell), back = KC.minBackSource(p.cell);
    let gt: [ArrayArg, number] = this.b.range(p.dh, dhOff + (steps - 1) * g, g); // G_{T−1} = dh_{T−1}
    let owned = false;
    for (let t = steps - 1; t >= 0; t--) {
      if (t < steps - 1) {
        const args = [...this.b.range(p.dh, dhOff + t * g, g), ...gt, ...this.b.range(p.act, actOff + (t + 1) * rowLen, rowLen)];
        const next = this.b.run(carry, g, c, args);
        if (owned) this.b.free(gt[0]);
        gt = [next, 0];
        owned = true;
      }
      const args = [
        ...gt, ...this.b.range(p.act, actOff + t * rowLen, rowLen), ...this.b.range(p.proj, projOff + t * rowLen, rowLen),
        ...this.b.range(p.h, hOff + t * g, g),
      ];
      this.emit(p.dProj, dpOff + t * rowLen, back, rowLen, c, args);
    }
    if (owned) this.b.free(gt[0]);
  }

  rmsNormForward(p: RmsNormArgs): void {
    const { rows, cols } = p;
    if (rows * cols === 0) return; // (zero columns: mean(x²) is undefined; nothing is written)
    const x = this.b.range(p.x, p.xOff ?? 0, rows * cols);
    // The out kernel reads rstd's kernel output directly; both are stored once both have run.
    const rstd = this.b.run(KC.rmsRstdSource, rows, { cols }, [...x, p.eps]);
    const out = this.b.run(KC.rmsOutSource, rows * cols, { cols }, [...x, ...this.b.range(p.w, p.wOff ?? 0, cols), rstd, 0]);
    this.b.commit(p.out, p.outOff ?? 0, out, rows * cols);
    this.b.commit(p.rstd, p.rstdOff ?? 0, rstd, rows);
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
    // Both accumulating kernels run before either output is stored.
    const dx = this.b.run(KC.rmsBackDxSource, rows * cols, { cols }, [
      ...x, ...w, ...rstd, ...dOut, k, 0, ...dxIn,
    ]);
    const dw = this.b.run(KC.rmsBackDwSource, cols, { rows, cols }, [...x, ...rstd, ...dOut, ...dwIn]);
    this.b.free(k);
    this.b.commit(p.dx, p.dxOff ?? 0, dx, rows * cols);
    this.b.commit(p.dw, p.dwOff ?? 0, dw, cols);
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
    const src = K.matmulSource(p.transA ?? false, p.transB ?? false, acc, !!p.bias);
    this.emit(p.c, p.cOff ?? 0, src, m * n, { m, n, k }, args);
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
    this.emit(dTable, dTableOff, K.embeddingBackwardSource, vocab * dim, { dim, n }, args);
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
    // Both kernels run before either output is stored, so neither sees the other's result.
    const dPre = this.b.run(K.lstmBackPreSource, 4 * g, c, [...act, ...cPrev, ...cell, ...dh, ...dcNext]);
    const dcPrev = this.b.run(K.lstmBackCellSource, g, c, [...act, ...cell, ...dh, ...dcNext]);
    this.b.commit(p.dPre, p.dPreOff ?? 0, dPre, 4 * g);
    this.b.commit(p.dcPrev, p.dcPrevOff ?? 0, dcPrev, g);
  }

  softmaxXent(p: SoftmaxXentArgs): void {
    const { rows, vocab } = p;
    if (rows === 0) return;
    const x = this.b.range(p.logits, p.logitsOff ?? 0, rows * vocab);
    const t = this.b.range(p.targets, p.targetsOff ?? 0, rows);
    const lse = this.b.run(K.logSumExpSource, rows, { vocab }, [...x]);
    const grad = p.dLogits ? this.b.run(K.xentGradSource, rows * vocab, { vocab }, [...x, ...t, lse, p.scale ?? 1]) : null;
    this.emit(p.losses, p.lossesOff ?? 0, K.xentLossSource, rows, { vocab }, [...x, ...t, lse]);
    if (grad) this.b.commit(p.dLogits!, p.dLogitsOff ?? 0, grad, rows * vocab);
    this.b.free(lse);
  }

  sumSquares({ out, outOff, x, xOff, len }: Checked<SumSquaresArgs>): void {
    if (len === 0) {
      this.zero({ out, outOff, len: 1 });
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
    this.emit(p.m, off, K.adamMSource, len, {}, [...grad, ...this.b.range(p.m, off, len), p.beta1, p.gradScale]);
    this.emit(p.v, off, K.adamVSource, len, {}, [...grad, ...this.b.range(p.v, off, len), p.beta2, p.gradScale]);
    // Bias corrections are per-step scalars, computed once here in double precision.
    const bc1 = 1 - Math.pow(p.beta1, p.step);
    const bc2 = 1 - Math.pow(p.beta2, p.step);
    const args: KernelArg[] = [
      ...this.b.range(p.param, off, len), ...this.b.range(p.m, off, len), ...this.b.range(p.v, off, len),
      p.lr, p.weightDecay, bc1, bc2, p.eps,
    ];
    this.emit(p.param, off, K.adamParamSource, len, {}, args);
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
    if (outLen === 0) return;
    this.b.commit(out, outOff, this.b.run(k, outLen, constants, args), outLen);
  }
}
