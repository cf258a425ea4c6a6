// Host storage for gpu.js's cpu and webasm modes: a tensor is a Float32Array and kernels run at
// once. A kernel reads a zero-copy view of exactly the range it needs (offset argument 0): the
// webasm backend copies every array argument into wasm memory per call, so passing a whole
// multi-timestep buffer for one timestep's work would copy it all each time.
import type { GPU } from 'gpu.js';
import type { Tensor } from '../engine-api.js';
import { type ArrayArg, type Backend, type GTensor, type KernelArg, checkRange } from './backend.js';
import { FLOAT32_INDEX_LIMIT, KernelCache, resolveArgs } from './kernel-cache.js';
import type { KernelSource } from './kernels.js';

export class HostTensor implements GTensor {
  constructor(readonly data: Float32Array) {}
  get size(): number {
    return this.data.length;
  }
}

function host(t: Tensor): HostTensor {
  if (!(t instanceof HostTensor)) throw new TypeError('tensor does not belong to this gpu.js engine');
  return t;
}

function view(data: Float32Array): ArrayArg {
  return { size: data.length, get: () => data };
}

export class HostBackend implements Backend {
  readonly device = false;
  private readonly cache: KernelCache;
  private disposed = false;

  constructor(
    private readonly gpu: GPU,
    mode: 'cpu' | 'webasm',
  ) {
    this.cache = new KernelCache(gpu, {}, mode, mode === 'cpu' ? Infinity : FLOAT32_INDEX_LIMIT);
  }

  tensor(size: number): GTensor {
    this.live();
    return new HostTensor(new Float32Array(size));
  }

  range(t: Tensor, off: number, len: number): [ArrayArg, number] {
    const h = host(t);
    checkRange(h, off, len, 'kernel input');
    return [view(h.data.subarray(off, off + len)), 0];
  }

  run(k: KernelSource, outLen: number, constants: Record<string, number>, args: KernelArg[]): ArrayArg {
    this.live();
    const out = this.cache.get(k, outLen, constants, args)(...(resolveArgs(args) as never[]));
    if (!(out instanceof Float32Array) || out.length !== outLen) {
      throw new Error(`gpu.js kernel ${k.name} returned ${describe(out)}, expected ${outLen} floats`);
    }
    return view(out);
  }

  emit(t: Tensor, off: number, len: number, k: KernelSource, constants: Record<string, number>, args: KernelArg[]): void {
    if (len > 0) this.commit(t, off, this.run(k, len, constants, args), len);
  }

  commit(t: Tensor, off: number, out: ArrayArg, len: number): void {
    const h = host(t);
    checkRange(h, off, len, 'kernel output');
    h.data.set(out.get() as Float32Array, off);
  }

  free(): void {}

  /** Host arrays: the garbage collector takes a tensor once nothing refers to it. */
  drop(): void {}

  write(t: Tensor, data: Float32Array, off: number): void {
    const h = host(t);
    h.data.set(data, off);
  }

  async read(t: Tensor, off: number, len: number): Promise<Float32Array> {
    const h = host(t);
    return h.data.slice(off, off + len);
  }

  view(t: Tensor, off: number, len: number): Float32Array {
    return host(t).data.subarray(off, off + len);
  }

  zero(t: Tensor, off: number, len: number): void {
    const h = host(t);
    h.data.fill(0, off, off + len);
  }

  copy(dst: Tensor, dstOff: number, src: Tensor, srcOff: number, len: number): void {
    const d = host(dst);
    const s = host(src);
    d.data.set(s.data.subarray(srcOff, srcOff + len), dstOff);
  }

  async sync(): Promise<void> {}

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.cache.clear();
    this.gpu.destroy().catch(() => undefined);
  }

  private live(): void {
    if (this.disposed) throw new Error('this gpu.js engine has been disposed');
  }
}

function describe(v: unknown): string {
  if (v instanceof Float32Array) return `${v.length} floats`;
  return v === null || v === undefined ? String(v) : (v as object).constructor?.name ?? typeof v;
}
