// The WebAssembly SIMD engine: f32x4 kernels compiled from assembly/ by `npm run build`, run
// synchronously on the calling thread plus worker threads over one shared memory. Every op gives
// bit-identical results for any thread count (see assembly/matmul.ts and assembly/optim.ts).
import os from 'node:os';
import type {
  AdamWArgs, Engine, LstmBackwardArgs, LstmForwardArgs, MatmulArgs, SoftmaxXentArgs, Tensor,
} from '../engine.js';
import { Arena } from './arena.js';
import { ACCUMULATE, Op, TRANS_A, TRANS_B } from './layout.js';
import { kernelsModule } from './locate.js';
import { Pool } from './pool.js';
import { SimdTensor, addr, checkCount, checkIds } from './tensor.js';

export interface SimdEngineOptions {
  /** Threads in all, the caller's included (default: os.availableParallelism()). */
  threads?: number;
  /** Upper bound of the shared memory in MiB (default 4096, the wasm32 limit). */
  maxMemoryMiB?: number;
  /** Split every op across all threads however small (tests use it to cover the partitions). */
  forceParallel?: boolean;
}

// Below these sizes waking the workers costs more than it saves (measured, see bench notes).
const PAR_FLOPS = 1 << 17;
const PAR_FLOATS = 1 << 15;
const PAR_CELLS = 1 << 11;
const PAR_SOFTMAX = 1 << 12;

export async function createSimdEngine(opts: SimdEngineOptions = {}): Promise<Engine> {
  const threads = Math.max(1, Math.floor(opts.threads ?? os.availableParallelism()));
  const module = await kernelsModule();
  const arena = new Arena(Math.min(65536, Math.ceil((opts.maxMemoryMiB ?? 4096) * 16)));
  const pool = await Pool.create(module, arena.memory, threads);
  return new SimdEngine(arena, pool, !!opts.forceParallel);
}

class SimdEngine implements Engine {
  readonly name = 'simd';
  private readonly scratch: number;
  private readonly sqChunk: number;
  private partials = 0;
  private partialsCap = 0;
  private disposed = false;

  constructor(private readonly arena: Arena, private readonly pool: Pool, private readonly force: boolean) {
    const probe = pool.exports;
    this.scratch = arena.alloc((probe.scratchBytes as () => number)() * pool.threads);
    this.sqChunk = (probe.sqChunk as () => number)();
  }

  /** Whether an op of this much work is worth waking the workers for. */
  private par(work: number, min: number): boolean {
    return this.force || work >= min;
  }

  private a(): Float64Array {
    if (this.disposed) throw new Error('simd engine: used after dispose()');
    return this.pool.args;
  }

  tensor(size: number): Tensor {
    checkCount(size, 'tensor size');
    if (this.disposed) throw new Error('simd engine: used after dispose()');
    return new SimdTensor(size, this.arena.alloc(size * 4), this);
  }

  write(t: Tensor, data: Float32Array, off = 0): void {
    const p = addr(this, t, off, data.length, 'write target');
    this.a();
    this.arena.f32(p, data.length).set(data);
  }

  async read(t: Tensor, off = 0, len?: number): Promise<Float32Array> {
    const n = len ?? t.size - off;
    const p = addr(this, t, off, n, 'read source');
    this.a();
    return this.arena.f32(p, n).slice();
  }

  async sync(): Promise<void> {}

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool.dispose();
  }

  zero(t: Tensor, off = 0, len?: number): void {
    const n = len ?? t.size - off;
    const a = this.a();
    a[0] = addr(this, t, off, n, 'zero target'); a[1] = n;
    this.pool.exec(Op.Zero, this.par(n, PAR_FLOATS));
  }

  copy(dst: Tensor, dstOff: number, src: Tensor, srcOff: number, len: number): void {
    const a = this.a();
    a[0] = addr(this, dst, dstOff, len, 'copy dst'); a[1] = addr(this, src, srcOff, len, 'copy src'); a[2] = len;
    this.pool.exec(Op.Copy, this.par(len, PAR_FLOATS));
  }

  broadcastRow(out: Tensor, outOff: number, row: Tensor, rowOff: number, rows: number, cols: number): void {
    checkCount(rows, 'rows'); checkCount(cols, 'cols');
    const a = this.a();
    a[0] = addr(this, out, outOff, rows * cols, 'broadcastRow out'); a[1] = addr(this, row, rowOff, cols, 'broadcastRow row');
    a[2] = rows; a[3] = cols;
    this.pool.exec(Op.BroadcastRow, this.par(rows * cols, PAR_FLOATS));
  }

  sumRows(out: Tensor, outOff: number, x: Tensor, xOff: number, rows: number, cols: number, accumulate: boolean): void {
    checkCount(rows, 'rows'); checkCount(cols, 'cols');
    const a = this.a();
    a[0] = addr(this, out, outOff, cols, 'sumRows out'); a[1] = addr(this, x, xOff, rows * cols, 'sumRows x');
    a[2] = rows; a[3] = cols; a[4] = accumulate ? 1 : 0;
    this.pool.exec(Op.SumRows, this.par(cols >= 16 ? rows * cols : 0, PAR_FLOATS));
  }

  matmul(m: MatmulArgs): void {
    checkCount(m.m, 'm'); checkCount(m.n, 'n'); checkCount(m.k, 'k');
    const a = this.a();
    a[0] = addr(this, m.c, m.cOff, m.m * m.n, 'matmul C');
    a[1] = addr(this, m.a, m.aOff, m.m * m.k, 'matmul A');
    a[2] = addr(this, m.b, m.bOff, m.k * m.n, 'matmul B');
    a[3] = m.m; a[4] = m.n; a[5] = m.k;
    a[6] = (m.transA ? TRANS_A : 0) | (m.transB ? TRANS_B : 0) | (m.accumulate ? ACCUMULATE : 0);
    a[7] = this.scratch;
    this.pool.exec(Op.Matmul, this.par(2 * m.m * m.n * m.k, PAR_FLOPS));
  }

  embedding(out: Tensor, outOff: number, table: Tensor, tableOff: number, ids: Tensor, idsOff: number, n: number, dim: number): void {
    checkCount(n, 'n'); checkCount(dim, 'dim');
    const idp = addr(this, ids, idsOff, n, 'embedding ids');
    const rows = dim > 0 ? Math.floor((table.size - (tableOff ?? 0)) / dim) : 0;
    checkIds(this.arena.f32(idp, n), rows, 'embedding ids');
    const a = this.a();
    a[0] = addr(this, out, outOff, n * dim, 'embedding out'); a[1] = addr(this, table, tableOff, rows * dim, 'embedding table');
    a[2] = idp; a[3] = n; a[4] = dim;
    this.pool.exec(Op.Embedding, this.par(n * dim, PAR_FLOATS));
  }

  embeddingBackward(dTable: Tensor, dTableOff: number, dOut: Tensor, dOutOff: number, ids: Tensor, idsOff: number,
    n: number, dim: number, vocab: number): void {
    checkCount(n, 'n'); checkCount(dim, 'dim'); checkCount(vocab, 'vocab');
    const idp = addr(this, ids, idsOff, n, 'embeddingBackward ids');
    checkIds(this.arena.f32(idp, n), vocab, 'embeddingBackward ids');
    const a = this.a();
    a[0] = addr(this, dTable, dTableOff, vocab * dim, 'embeddingBackward dTable');
    a[1] = addr(this, dOut, dOutOff, n * dim, 'embeddingBackward dOut');
    a[2] = idp; a[3] = n; a[4] = dim; a[5] = vocab;
    this.pool.exec(Op.EmbeddingBackward, this.par(vocab >= 2 * this.pool.threads ? n * dim : 0, 2 * PAR_FLOATS));
  }

  lstmForward(l: LstmForwardArgs): void {
    checkCount(l.batch, 'batch'); checkCount(l.hidden, 'hidden');
    const bh = l.batch * l.hidden;
    const a = this.a();
    a[0] = addr(this, l.pre, l.preOff, 4 * bh, 'lstmForward pre'); a[1] = addr(this, l.act, l.actOff, 4 * bh, 'lstmForward act');
    a[2] = addr(this, l.cPrev, l.cPrevOff, bh, 'lstmForward cPrev'); a[3] = addr(this, l.c, l.cOff, bh, 'lstmForward c');
    a[4] = addr(this, l.h, l.hOff, bh, 'lstmForward h'); a[5] = l.batch; a[6] = l.hidden;
    this.pool.exec(Op.LstmForward, this.par(l.batch > 1 ? bh : 0, PAR_CELLS));
  }

  lstmBackward(l: LstmBackwardArgs): void {
    checkCount(l.batch, 'batch'); checkCount(l.hidden, 'hidden');
    const bh = l.batch * l.hidden;
    const a = this.a();
    a[0] = addr(this, l.act, l.actOff, 4 * bh, 'lstmBackward act'); a[1] = addr(this, l.cPrev, l.cPrevOff, bh, 'lstmBackward cPrev');
    a[2] = addr(this, l.c, l.cOff, bh, 'lstmBackward c'); a[3] = addr(this, l.dh, l.dhOff, bh, 'lstmBackward dh');
    a[4] = addr(this, l.dcNext, l.dcNextOff, bh, 'lstmBackward dcNext');
    a[5] = addr(this, l.dPre, l.dPreOff, 4 * bh, 'lstmBackward dPre');
    a[6] = addr(this, l.dcPrev, l.dcPrevOff, bh, 'lstmBackward dcPrev'); a[7] = l.batch; a[8] = l.hidden;
    this.pool.exec(Op.LstmBackward, this.par(l.batch > 1 ? bh : 0, PAR_CELLS));
  }

  softmaxXent(s: SoftmaxXentArgs): void {
    checkCount(s.rows, 'rows'); checkCount(s.vocab, 'vocab');
    if (s.vocab === 0 && s.rows > 0) throw new RangeError('simd engine: softmaxXent needs vocab > 0');
    const tp = addr(this, s.targets, s.targetsOff, s.rows, 'softmaxXent targets');
    checkIds(this.arena.f32(tp, s.rows), s.vocab, 'softmaxXent targets');
    const a = this.a();
    a[0] = addr(this, s.logits, s.logitsOff, s.rows * s.vocab, 'softmaxXent logits'); a[1] = tp;
    a[2] = addr(this, s.losses, s.lossesOff, s.rows, 'softmaxXent losses');
    a[3] = s.dLogits ? addr(this, s.dLogits, s.dLogitsOff, s.rows * s.vocab, 'softmaxXent dLogits') : 0;
    a[4] = s.rows; a[5] = s.vocab; a[6] = s.scale ?? 1;
    this.pool.exec(Op.SoftmaxXent, this.par(s.rows > 1 ? s.rows * s.vocab : 0, PAR_SOFTMAX));
  }

  mul(out: Tensor, outOff: number, a: Tensor, aOff: number, b: Tensor, bOff: number, len: number): void {
    const r = this.a();
    r[0] = addr(this, out, outOff, len, 'mul out'); r[1] = addr(this, a, aOff, len, 'mul a'); r[2] = addr(this, b, bOff, len, 'mul b');
    r[3] = len;
    this.pool.exec(Op.Mul, this.par(len, PAR_FLOATS));
  }

  sumSquares(out: Tensor, outOff: number, x: Tensor, xOff: number, len: number): void {
    const o = addr(this, out, outOff, 1, 'sumSquares out');
    const xp = addr(this, x, xOff, len, 'sumSquares x');
    const chunks = Math.ceil(len / this.sqChunk);
    if (chunks > this.partialsCap) {
      this.partialsCap = Math.max(chunks, 2 * this.partialsCap, 256);
      this.partials = this.arena.alloc(this.partialsCap * 8);
    }
    const a = this.a();
    a[0] = xp; a[1] = len; a[2] = this.partials;
    this.pool.exec(Op.SumSquaresPartials, this.par(len, PAR_FLOATS));
    a[0] = o; a[1] = this.partials; a[2] = chunks;
    this.pool.exec(Op.SumPartials, false);
  }

  adamw(o: AdamWArgs): void {
    const what = 'adamw';
    const a = this.a();
    a[0] = addr(this, o.param, o.off, o.len, `${what} param`); a[1] = addr(this, o.grad, o.off, o.len, `${what} grad`);
    a[2] = addr(this, o.m, o.off, o.len, `${what} m`); a[3] = addr(this, o.v, o.off, o.len, `${what} v`);
    a[4] = o.len; a[5] = o.lr; a[6] = o.beta1; a[7] = o.beta2; a[8] = o.eps; a[9] = o.weightDecay;
    a[10] = 1 - Math.pow(o.beta1, o.step); a[11] = 1 - Math.pow(o.beta2, o.step); a[12] = o.gradScale;
    this.pool.exec(Op.AdamW, this.par(o.len, PAR_FLOATS / 2));
  }
}
