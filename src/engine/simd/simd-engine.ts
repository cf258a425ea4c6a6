// The WebAssembly SIMD engine: f32x4 kernels compiled from assembly/ by `npm run build`, run
// synchronously on the calling thread plus worker threads over one shared memory. Every op gives
// bit-identical results for any thread count (see assembly/matmul.ts and assembly/optim.ts).
import os from 'node:os';
import type {
  AdamWArgs, BinaryArgs, BroadcastRowArgs, CopyArgs, EmbeddingArgs, EmbeddingBackwardArgs, Engine, GeluBackwardArgs, GeluForwardArgs, InferModel,
  InferPlan, GruBackwardArgs, GruForwardArgs, LstmBackwardArgs, LstmForwardArgs, MatmulArgs, MinScanBackwardArgs, MinScanForwardArgs,
  RmsNormArgs, RmsNormBackwardArgs, SoftmaxXentArgs, SumRowsArgs, SumSquaresArgs, TanhBackwardArgs, Tensor, UnaryArgs, ZeroArgs,
} from '../engine-api.js';
import { type Backend, type Checked, checkedEngine } from '../op-layer.js';
import { Arena } from './arena.js';
import { Ctx } from './context.js';
import { Op } from './op-table.js';
import { loadKernels } from './locate.js';
import * as C from './ops-cells.js';
import { SimdInferPlan, prepareInfer } from './simd-infer-plan.js';
import * as O from './ops-optim.js';
import * as T from './ops-tensor.js';
import { Pool } from './pool.js';
import { SimdTensor } from './tensor.js';
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

/**
 * The engine behind the shared checks (../op-layer.ts), which this backend relies on: its kernels
 * index memory with unchecked pointers and ids. dispose() terminates its workers (idle workers
 * never keep a process alive).
 */
export async function createSimdEngine(opts: SimdEngineOptions = {}): Promise<Engine> {
  const threads = Math.max(1, Math.floor(opts.threads ?? os.availableParallelism()));
  const { module, variant } = await loadKernels(opts.variant);
  const arena = new Arena(Math.max(2, Math.min(65536, Math.ceil((opts.maxMemoryMiB ?? 4096) * 16))));
  const pool = await Pool.create(module, arena.memory, threads);
  return checkedEngine(new SimdEngine(new Ctx(arena, pool, !!opts.forceParallel), variant));
}

class SimdEngine implements Backend {
  readonly name = 'cpu';
  private readonly scratch: number;
  private readonly sq: O.SumSquares;

  constructor(private readonly cx: Ctx, readonly variant: KernelVariant) {
    const k = cx.pool.exports as Record<string, () => number>;
    this.scratch = cx.arena.alloc(k.scratchBytes() * cx.pool.threads);
    this.sq = new O.SumSquares(cx, k.sqChunk());
  }

  tensor(size: number): Tensor {
    this.cx.args();
    return new SimdTensor(size, this.cx.arena.alloc(size * 4));
  }

  write(t: Tensor, data: Float32Array, off: number): void {
    this.hostView(t, off, data.length).set(data);
  }

  async read(t: Tensor, off: number, len: number): Promise<Float32Array> {
    return this.hostView(t, off, len).slice();
  }

  hostView(t: Tensor, off: number, len: number): Float32Array {
    this.cx.args();
    return this.cx.arena.f32(this.cx.ptr(t, off), len);
  }

  free(t: Tensor): void {
    const st = t as SimdTensor, cx = this.cx;
    cx.args();
    cx.dropPacks(st.ptr, st.ptr + st.size * 4);
    cx.arena.free(st.ptr, st.size * 4);
  }

  reserved(): number {
    return this.cx.arena.usage().reserved;
  }

  async sync(): Promise<void> {}

  dispose(): void {
    if (this.cx.disposed) return;
    this.cx.disposed = true;
    this.cx.pool.dispose();
  }

  zero(a: Checked<ZeroArgs>): void { T.zero(this.cx, a); }
  copy(a: Checked<CopyArgs>): void { T.copy(this.cx, a); }
  broadcastRow(a: Checked<BroadcastRowArgs>): void { T.broadcastRow(this.cx, a); }
  sumRows(a: Checked<SumRowsArgs>): void { T.sumRows(this.cx, a); }
  matmul(a: Checked<MatmulArgs>): void { T.matmul(this.cx, a, this.scratch); }
  embedding(a: Checked<EmbeddingArgs>): void { T.embedding(this.cx, a); }
  embeddingBackward(a: Checked<EmbeddingBackwardArgs>): void { T.embeddingBackward(this.cx, a); }
  mul(a: Checked<BinaryArgs>): void { T.binary(this.cx, Op.Mul, a); }
  add(a: Checked<BinaryArgs>): void { T.binary(this.cx, Op.Add, a); }

  tanhForward(a: Checked<UnaryArgs>): void { C.unary(this.cx, Op.TanhForward, a); }
  tanhBackward(a: Checked<TanhBackwardArgs>): void { C.tanhBackward(this.cx, a); }
  geluForward(a: Checked<GeluForwardArgs>): void { C.geluForward(this.cx, a); }
  geluBackward(a: Checked<GeluBackwardArgs>): void { C.geluBackward(this.cx, a); }
  lstmForward(a: Checked<LstmForwardArgs>): void { C.lstmForward(this.cx, a); }
  lstmBackward(a: Checked<LstmBackwardArgs>): void { C.lstmBackward(this.cx, a); }
  gruForward(a: Checked<GruForwardArgs>): void { C.gruForward(this.cx, a); }
  gruBackward(a: Checked<GruBackwardArgs>): void { C.gruBackward(this.cx, a); }
  minScanForward(a: Checked<MinScanForwardArgs>): void { C.minScanForward(this.cx, a); }
  minScanBackward(a: Checked<MinScanBackwardArgs>): void { C.minScanBackward(this.cx, a); }
  rmsNormForward(a: Checked<RmsNormArgs>): void { C.rmsNormForward(this.cx, a); }
  rmsNormBackward(a: Checked<RmsNormBackwardArgs>): void { C.rmsNormBackward(this.cx, a); }

  softmaxXent(a: Checked<SoftmaxXentArgs>): void { O.softmaxXent(this.cx, a); }
  sumSquares(a: Checked<SumSquaresArgs>): void { this.sq.run(a); }
  adamw(a: AdamWArgs): void { O.adamw(this.cx, a); }

  inferPrepare(model: InferModel, streams: number, engine: Engine): InferPlan { return prepareInfer(this.cx, engine, model, streams); }
  inferStep(plan: InferPlan, ids: ArrayLike<number>, logits: boolean): void { this.plan(plan).step(ids, logits); }
  async inferLogits(plan: InferPlan, out: Float32Array): Promise<void> { this.plan(plan).readLogits(out); }
  inferReset(plan: InferPlan): void { this.plan(plan).reset(); }
  async inferReadState(plan: InferPlan): Promise<Float32Array> { return this.plan(plan).readState(); }
  inferWriteState(plan: InferPlan, state: Float32Array): void { this.plan(plan).writeState(state); }
  inferRelease(plan: InferPlan): void { this.plan(plan).release(); }

  private plan(p: InferPlan): SimdInferPlan {
    if (!(p instanceof SimdInferPlan) || p.cx !== this.cx) throw new TypeError('simd engine: not an inference plan of this engine');
    return p;
  }
}
