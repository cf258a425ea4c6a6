// The Engine ops as gpu.js kernels. Each op validates its ranges, runs one or more kernels from
// kernels.ts and commits their outputs; where the data lives is the backend's business.
import type {
  AdamWArgs, Engine, LstmBackwardArgs, LstmForwardArgs, MatmulArgs, SoftmaxXentArgs, Tensor,
} from '../engine.js';
import { type ArrayArg, type Backend, type GTensor, type KernelArg, checkRange } from './backend.js';
import * as K from './kernels.js';

/** Sum-of-squares block per partial-sum thread: short enough to keep float32 sums accurate. */
const SUM_CHUNK = 256;
/**
 * Ops whose length is a whole parameter buffer (adamw, sumSquares) run in passes of at most this
 * many elements: webasm and GPU kernels index in float32, exact only below 2^24.
 */
export const MAX_PASS = 1 << 22;

export class GpuJsEngine implements Engine {
  constructor(
    readonly name: string,
    private readonly b: Backend,
  ) {}

  tensor(size: number): Tensor {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`tensor size must be a non-negative integer, got ${size}`);
    return this.b.tensor(size);
  }

  write(t: Tensor, data: Float32Array, off = 0): void {
    this.b.write(t, data, off);
  }

  read(t: Tensor, off = 0, len?: number): Promise<Float32Array> {
    return this.b.read(t, off, len ?? t.size - off);
  }

  sync(): Promise<void> {
    return this.b.sync();
  }

  dispose(): void {
    this.b.dispose();
  }

  zero(t: Tensor, off = 0, len?: number): void {
    this.b.zero(t, off, len ?? t.size - off);
  }

  copy(dst: Tensor, dstOff: number, src: Tensor, srcOff: number, len: number): void {
    this.b.copy(dst, dstOff, src, srcOff, len);
  }

  broadcastRow(out: Tensor, outOff: number, row: Tensor, rowOff: number, rows: number, cols: number): void {
    const [r, rOff] = this.b.range(row, rowOff, cols);
    this.emit(out, outOff, K.broadcastRowSource, rows * cols, { cols }, [r, rOff]);
  }

  sumRows(out: Tensor, outOff: number, x: Tensor, xOff: number, rows: number, cols: number, accumulate: boolean): void {
    if (rows === 0) {
      if (!accumulate) this.zero(out, outOff, cols);
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
      if (!acc) this.zero(p.c, p.cOff ?? 0, m * n);
      return;
    }
    const args: KernelArg[] = [...this.b.range(p.a, p.aOff ?? 0, m * k), ...this.b.range(p.b, p.bOff ?? 0, k * n)];
    if (acc) args.push(...this.b.range(p.c, p.cOff ?? 0, m * n));
    const src = K.matmulSource(p.transA ?? false, p.transB ?? false, acc);
    this.emit(p.c, p.cOff ?? 0, src, m * n, { m, n, k }, args);
  }

  embedding(out: Tensor, outOff: number, table: Tensor, tableOff: number, ids: Tensor, idsOff: number, n: number, dim: number): void {
    if (n * dim === 0) return;
    // The rows used are only known from the ids, so the kernel may read the rest of the tensor.
    const args = [...this.b.range(table, tableOff, table.size - tableOff), ...this.b.range(ids, idsOff, n)];
    this.emit(out, outOff, K.embeddingSource, n * dim, { dim }, args);
  }

  embeddingBackward(dTable: Tensor, dTableOff: number, dOut: Tensor, dOutOff: number, ids: Tensor, idsOff: number, n: number, dim: number, vocab: number): void {
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

  sumSquares(out: Tensor, outOff: number, x: Tensor, xOff: number, len: number): void {
    if (len === 0) {
      this.zero(out, outOff, 1);
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
    checkRange(out as GTensor, outOff, 1, 'sumSquares output');
    this.b.commit(out, outOff, total!, 1);
  }

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

  /** Runs one kernel and stores its output at out[outOff, outOff+outLen). */
  private emit(out: Tensor, outOff: number, k: K.KernelSource, outLen: number, constants: Record<string, number>, args: KernelArg[]): void {
    if (outLen === 0) return;
    checkRange(out as GTensor, outOff, outLen, `${k.name} output`);
    this.b.commit(out as GTensor, outOff, this.b.run(k, outLen, constants, args), outLen);
  }
}
