// The WebAssembly SIMD engine: f32x4 kernels compiled from assembly/ by `npm run build`, run
// synchronously on the calling thread plus worker threads over one shared memory. Every op gives
// bit-identical results for any thread count (see assembly/matmul.ts and assembly/optim.ts).
import os from 'node:os';
import type {
  AdamWArgs, Engine, InferModel, InferPlan, GruBackwardArgs, GruForwardArgs, LstmBackwardArgs, LstmForwardArgs, MatmulArgs,
  MinScanBackwardArgs, MinScanForwardArgs, RmsNormArgs, RmsNormBackwardArgs, SoftmaxXentArgs, Tensor,
} from '../engine.js';
import { Arena } from './arena.js';
import { Ctx } from './context.js';
import { Op } from './layout.js';
import { loadKernels } from './locate.js';
import * as C from './ops-cells.js';
import { SimdInferPlan, prepareInfer } from './ops-infer.js';
import * as O from './ops-optim.js';
import * as T from './ops-tensor.js';
import { Pool } from './pool.js';
import { SimdTensor, checkCount } from './tensor.js';
import type { KernelVariant } from './variant.js';

export interface SimdEngineOptions {
  /** Threads in all, the caller's included (default: os.availableParallelism()). */
  threads?: number;
  /** Upper bound of the shared memory in MiB (default 4096, the wasm32 limit). */
  maxMemoryMiB?: number;
  /** Split every op across all threads however small (tests use it to cover the partitions). */
  forceParallel?: boolean;
  /** The kernels' build (default: relaxed where it runs, see variant.ts). */
  variant?: KernelVariant;
}

/** The engine; dispose() terminates its workers (idle workers never keep a process alive). */
export async function createSimdEngine(opts: SimdEngineOptions = {}): Promise<Engine> {
  const threads = Math.max(1, Math.floor(opts.threads ?? os.availableParallelism()));
  const { module, variant } = await loadKernels(opts.variant);
  const arena = new Arena(Math.max(2, Math.min(65536, Math.ceil((opts.maxMemoryMiB ?? 4096) * 16))));
  const pool = await Pool.create(module, arena.memory, threads);
  return new SimdEngine(new Ctx(arena, pool, !!opts.forceParallel), variant);
}

class SimdEngine implements Engine {
  readonly name = 'simd';
  private readonly scratch: number;
  private readonly sq: O.SumSquares;

  constructor(private readonly cx: Ctx, readonly variant: KernelVariant) {
    const k = cx.pool.exports as Record<string, () => number>;
    this.scratch = cx.arena.alloc(k.scratchBytes() * cx.pool.threads);
    this.sq = new O.SumSquares(cx, k.sqChunk());
  }

  tensor(size: number): Tensor {
    checkCount(size, 'tensor size');
    this.cx.args();
    return new SimdTensor(size, this.cx.arena.alloc(size * 4), this.cx);
  }

  write(t: Tensor, data: Float32Array, off = 0): void {
    const p = this.cx.at(t, off, data.length, 'write target');
    this.cx.args();
    this.cx.arena.f32(p, data.length).set(data);
  }

  async read(t: Tensor, off = 0, len?: number): Promise<Float32Array> {
    const n = len ?? t.size - off;
    const p = this.cx.at(t, off, n, 'read source');
    this.cx.args();
    return this.cx.arena.f32(p, n).slice();
  }

  async sync(): Promise<void> {}

  dispose(): void {
    if (this.cx.disposed) return;
    this.cx.disposed = true;
    this.cx.pool.dispose();
  }

  zero(t: Tensor, off?: number, len?: number): void { T.zero(this.cx, t, off, len); }
  copy(dst: Tensor, dstOff: number, src: Tensor, srcOff: number, len: number): void { T.copy(this.cx, dst, dstOff, src, srcOff, len); }
  broadcastRow(out: Tensor, outOff: number, row: Tensor, rowOff: number, rows: number, cols: number): void {
    T.broadcastRow(this.cx, out, outOff, row, rowOff, rows, cols);
  }
  sumRows(out: Tensor, outOff: number, x: Tensor, xOff: number, rows: number, cols: number, accumulate: boolean): void {
    T.sumRows(this.cx, out, outOff, x, xOff, rows, cols, accumulate);
  }
  matmul(args: MatmulArgs): void { T.matmul(this.cx, args, this.scratch); }
  embedding(out: Tensor, outOff: number, table: Tensor, tableOff: number, ids: Tensor, idsOff: number, n: number, dim: number): void {
    T.embedding(this.cx, out, outOff, table, tableOff, ids, idsOff, n, dim);
  }
  embeddingBackward(dTable: Tensor, dTableOff: number, dOut: Tensor, dOutOff: number, ids: Tensor, idsOff: number,
    n: number, dim: number, vocab: number): void {
    T.embeddingBackward(this.cx, dTable, dTableOff, dOut, dOutOff, ids, idsOff, n, dim, vocab);
  }
  mul(out: Tensor, outOff: number, a: Tensor, aOff: number, b: Tensor, bOff: number, len: number): void {
    T.binary(this.cx, Op.Mul, 'mul', out, outOff, a, aOff, b, bOff, len);
  }
  add(out: Tensor, outOff: number, a: Tensor, aOff: number, b: Tensor, bOff: number, len: number): void {
    T.binary(this.cx, Op.Add, 'add', out, outOff, a, aOff, b, bOff, len);
  }

  tanhForward(out: Tensor, outOff: number, x: Tensor, xOff: number, len: number): void {
    C.unary(this.cx, Op.TanhForward, 'tanhForward', out, outOff, x, xOff, len);
  }
  tanhBackward(dx: Tensor, dxOff: number, y: Tensor, yOff: number, dy: Tensor, dyOff: number, len: number): void {
    C.backward(this.cx, Op.TanhBackward, 'tanhBackward', dx, dxOff, y, yOff, dy, dyOff, len);
  }
  geluForward(out: Tensor, outOff: number, x: Tensor, xOff: number, len: number): void {
    C.unary(this.cx, Op.GeluForward, 'geluForward', out, outOff, x, xOff, len);
  }
  geluBackward(dx: Tensor, dxOff: number, x: Tensor, xOff: number, dy: Tensor, dyOff: number, len: number): void {
    C.backward(this.cx, Op.GeluBackward, 'geluBackward', dx, dxOff, x, xOff, dy, dyOff, len);
  }
  lstmForward(args: LstmForwardArgs): void { C.lstmForward(this.cx, args); }
  lstmBackward(args: LstmBackwardArgs): void { C.lstmBackward(this.cx, args); }
  gruForward(args: GruForwardArgs): void { C.gruForward(this.cx, args); }
  gruBackward(args: GruBackwardArgs): void { C.gruBackward(this.cx, args); }
  minScanForward(args: MinScanForwardArgs): void { C.minScanForward(this.cx, args); }
  minScanBackward(args: MinScanBackwardArgs): void { C.minScanBackward(this.cx, args); }
  rmsNormForward(args: RmsNormArgs): void { C.rmsNormForward(this.cx, args); }
  rmsNormBackward(args: RmsNormBackwardArgs): void { C.rmsNormBackward(this.cx, args); }

  softmaxXent(args: SoftmaxXentArgs): void { O.softmaxXent(this.cx, args); }
  sumSquares(out: Tensor, outOff: number, x: Tensor, xOff: number, len: number): void { this.sq.run(out, outOff, x, xOff, len); }
  adamw(args: AdamWArgs): void { O.adamw(this.cx, args); }

  inferPrepare(model: InferModel, streams: number): InferPlan { return prepareInfer(this.cx, model, streams); }
  inferStep(plan: InferPlan, ids: ArrayLike<number>, logits: boolean): void { this.plan(plan).step(ids, logits); }
  async inferLogits(plan: InferPlan, out: Float32Array): Promise<void> { this.plan(plan).readLogits(out); }
  inferReset(plan: InferPlan): void { this.plan(plan).reset(); }
  async inferReadState(plan: InferPlan): Promise<Float32Array> { return this.plan(plan).readState(); }
  inferWriteState(plan: InferPlan, state: Float32Array): void { this.plan(plan).writeState(state); }

  private plan(p: InferPlan): SimdInferPlan {
    if (!(p instanceof SimdInferPlan) || p.cx !== this.cx) throw new TypeError('simd engine: not an inference plan of this engine');
    return p;
  }
}
