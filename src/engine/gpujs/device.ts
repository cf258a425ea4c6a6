// Device storage for gpu.js's GPU modes (headlessgl, webgpu): a tensor is a pipeline texture or
// buffer that never leaves the device between ops. Every kernel is `pipeline` (output stays on
// the device) and `immutable` (each call gets a fresh output, so a kernel may read its own
// previous result). Writing a range of a larger tensor is a "splice" kernel producing the new
// texture; the old one is deleted.
//
// WebGPU kernels return Promises even for pipeline outputs, so ops are recorded into one serial
// queue of async steps: op calls stay synchronous, and execution order is call order. The first
// failing step poisons the queue; sync() and read() report it.
import { createRequire } from 'node:module';
import type { GPU, IGPUKernelSettings } from 'gpu.js';
import type { Tensor } from '../engine-api.js';
import { type ArrayArg, type Backend, type GTensor, type KernelArg, checkRange } from './backend.js';
import { FLOAT32_INDEX_LIMIT, KernelCache, resolveArgs } from './kernel-cache.js';
import { type KernelSource, fillSource, spliceSource, uploadSource } from './kernels.js';
import { intoRange, intoRange4 } from './kernel-wrap.js';

/**
 * What gpu.js hands back from a pipeline kernel: a GL Texture or a WebGPU buffer handle. The cpu
 * mode hands back a plain Float32Array instead; accepting that lets tests drive this whole path
 * (queue, splices, handle lifetimes) on a machine without a GPU.
 */
type Handle = { delete(): void; toArray(): unknown } | Float32Array;

function release(h: Handle | null): void {
  if (h && !(h instanceof Float32Array)) h.delete();
}

/**
 * A four-floats-per-thread result (a kernel returning [a, b, c, d]) seen as a flat array of len
 * floats, thread i's values at 4i..4i+3, so that any kernel reads it like every other tensor. The
 * storage already is that array in both GPU modes: a WebGPU buffer of vec4s is the same bytes, and
 * a GL RGBA float texture is what gpu.js calls memory-optimized (four floats per texel); only the
 * handle's description changes. gpu.js's cpu mode hands back an array of four-float arrays.
 */
function flat4(h: unknown, len: number): Handle {
  if (Array.isArray(h)) {
    const out = new Float32Array(len);
    (h as ArrayLike<number>[]).forEach((v, i) => out.set(v, 4 * i));
    return out;
  }
  const r = h as { type?: string; output: number[]; componentCount?: number; dimensions?: number[] };
  if (r.type === 'WebGPUBuffer') {
    r.output = [len];
    r.componentCount = 1;
  } else if (r.type === 'ArrayTexture(4)' || r.type === 'MemoryOptimizedNumberTexture') {
    // (The second: gpu.js hands an immutable kernel fed its own last output that input's texture
    // object back as the next output, so a handle described here comes back already described.)
    Object.setPrototypeOf(r, glMemoryOptimized().prototype);
    r.type = 'MemoryOptimizedNumberTexture';
    r.output = [len];
    r.dimensions = [len, 1, 1];
  } else {
    throw new Error(`gpu.js returned an unexpected handle (${String(r.type)}) from a four-float kernel`);
  }
  return r as unknown as Handle;
}

let memoryOptimized: { prototype: object } | null = null;

/** gpu.js's one WebGPU device (every webgpu kernel shares it): its queue's completion. */
async function webGpuDone(): Promise<void> {
  const { WebGPUContext } = createRequire(import.meta.url)('gpu.js/src/backend/web-gpu/context.js') as {
    WebGPUContext: { acquire(): Promise<{ device: { queue: { onSubmittedWorkDone(): Promise<void> } } }> };
  };
  await (await WebGPUContext.acquire()).device.queue.onSubmittedWorkDone();
}

function glMemoryOptimized(): { prototype: object } {
  memoryOptimized ??= (createRequire(import.meta.url)('gpu.js/src/backend/gl/texture/memory-optimized.js') as {
    GLTextureMemoryOptimized: { prototype: object };
  }).GLTextureMemoryOptimized;
  return memoryOptimized;
}

async function download(h: Handle): Promise<Float32Array> {
  const v = h instanceof Float32Array ? h : await h.toArray();
  if (v instanceof Float32Array) return v;
  if (Array.isArray(v)) return Float32Array.from(v as number[]);
  throw new Error('gpu.js returned an unexpected array type from a device read');
}

/**
 * headless-gl runs kernels synchronously, so a queue of them settles through microtasks alone and
 * a training loop that only awaits reads would never let timers, signals (Ctrl-C) or worker
 * messages in. One macrotask turn per host read keeps the process responsive at no real cost.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A tensor's storage holds whole four-float threads (phys, size rounded up), so that any tensor
 * can take a four-float kernel's output (emit4): a padded tail is carried along, never read.
 */
class DeviceTensor implements GTensor {
  h: Handle | null = null;
  readonly phys: number;
  constructor(readonly size: number) {
    this.phys = Math.ceil(size / 4) * 4;
  }
}

class DeviceOut implements ArrayArg {
  h: Handle | null = null;
  constructor(readonly size: number) {}
  get(): Handle | null {
    return this.h;
  }
}

function dev(t: Tensor): DeviceTensor {
  if (!(t instanceof DeviceTensor)) throw new TypeError('tensor does not belong to this gpu.js engine');
  return t;
}

export const DEVICE_KERNEL_SETTINGS: IGPUKernelSettings = {
  pipeline: true,
  immutable: true,
  precision: 'single',
  tactic: 'precision',
};

export class DeviceBackend implements Backend {
  readonly device = true;
  private readonly cache: KernelCache;
  private tail: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private disposed = false;

  constructor(
    private readonly gpu: GPU,
    private readonly mode: string,
  ) {
    this.cache = new KernelCache(gpu, DEVICE_KERNEL_SETTINGS, mode, FLOAT32_INDEX_LIMIT);
  }

  tensor(size: number): GTensor {
    this.live();
    const t = new DeviceTensor(size);
    if (size > 0) this.enqueue(async () => void (t.h = await this.call(fillSource, t.phys, {}, [0])));
    return t;
  }

  range(t: Tensor, off: number, len: number): [ArrayArg, number] {
    const d = dev(t);
    checkRange(d, off, len, 'kernel input');
    return [this.whole(d), off];
  }

  run(k: KernelSource, outLen: number, constants: Record<string, number>, args: KernelArg[]): ArrayArg {
    this.live();
    const out = new DeviceOut(outLen);
    this.enqueue(async () => void (out.h = await this.call(k, outLen, constants, args)));
    return out;
  }

  emit(t: Tensor, off: number, len: number, k: KernelSource, constants: Record<string, number>, args: KernelArg[]): void {
    const d = dev(t);
    checkRange(d, off, len, 'kernel output');
    if (len === 0) return;
    if (off === 0 && len === d.phys) return this.commit(d, 0, this.run(k, len, constants, args), len);
    this.live();
    this.enqueue(async () => this.replace(d, await this.call(intoRange(k), d.phys, { ...constants, wrapLen: len }, [this.whole(d), off, ...args])));
  }

  emit4(t: Tensor, off: number, len: number, k: KernelSource, constants: Record<string, number>, args: KernelArg[]): void {
    const d = dev(t);
    checkRange(d, off, len, 'kernel output');
    if (off % 4 !== 0 || len % 4 !== 0) throw new RangeError(`emit4: [${off}, ${off + len}) is not whole four-float threads`);
    if (len === 0) return;
    this.live();
    const whole = off === 0 && len === d.phys;
    const [kernel, c, a] = whole ? [k, constants, args] : [intoRange4(k), { ...constants, wrapLen: len / 4 }, [this.whole(d), off / 4, ...args]];
    this.enqueue(async () => this.replace(d, flat4(await this.call(kernel, d.phys / 4, c, a), d.phys)));
  }

  commit(t: Tensor, off: number, out: ArrayArg, len: number): void {
    const d = dev(t);
    if (off !== 0 || len !== d.phys) checkRange(d, off, len, 'kernel output');
    this.enqueue(async () => {
      const h = (out as DeviceOut).h!;
      if (off === 0 && len === d.phys) return this.replace(d, h);
      this.replace(d, await this.splice(d, h, len, off, 0, len));
      release(h);
    });
  }

  free(out: ArrayArg): void {
    this.enqueue(() => release((out as DeviceOut).h));
  }

  drop(t: Tensor): void {
    const d = dev(t);
    this.enqueue(() => {
      release(d.h);
      d.h = null;
    });
  }

  write(t: Tensor, data: Float32Array, off: number): void {
    const d = dev(t);
    if (data.length === 0) return;
    // A whole tensor is uploaded with its padding, so that it replaces the storage in one launch.
    const copy = off === 0 && data.length === d.size ? new Float32Array(d.phys) : new Float32Array(data.length);
    copy.set(data);
    const out = this.run(uploadSource, copy.length, {}, [{ size: copy.length, get: () => copy }]);
    this.commit(d, off, out, copy.length);
  }

  /**
   * The transfer starts in queue order, but the queue does not wait for it: kernels enqueued after
   * this read are launched while the data travels (WebGPU maps asynchronously; GL's readPixels is
   * synchronous anyway).
   */
  async read(t: Tensor, off: number, len: number): Promise<Float32Array> {
    const d = dev(t);
    const transfer: { data?: Promise<Float32Array> } = {};
    await this.enqueue(() => {
      if (len > 0) transfer.data = download(d.h!);
    });
    this.rethrow();
    const all = transfer.data ? await transfer.data : null;
    await yieldToEventLoop();
    return all ? all.slice(off, off + len) : new Float32Array(len);
  }

  zero(t: Tensor, off: number, len: number): void {
    this.emit(t, off, len, fillSource, {}, [0]);
  }

  copy(dst: Tensor, dstOff: number, src: Tensor, srcOff: number, len: number): void {
    const d = dev(dst);
    const s = dev(src);
    if (len === 0) return;
    this.enqueue(async () => this.replace(d, await this.splice(d, s.h!, s.phys, dstOff, srcOff, len)));
  }

  /**
   * Resolves when every op enqueued before the call has run on the device: WebGPU submits without
   * waiting, so its queue is asked; GL (headless-gl) has run a kernel once the call returns, as far
   * as any later use can tell. A training loop awaits the previous step's sync to stay at most a
   * step ahead of the device, without a download and without leaving the device idle.
   */
  async sync(): Promise<void> {
    await this.tail;
    this.rethrow();
    if (this.mode === 'webgpu') await webGpuDone();
    await yieldToEventLoop();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // Queued steps still hold kernels; tear down only after they have run.
    this.tail
      .then(() => {
        this.cache.clear();
        return this.gpu.destroy();
      })
      .catch(() => undefined);
  }

  private async call(k: KernelSource, outLen: number, constants: Record<string, number>, args: KernelArg[]): Promise<Handle> {
    const kernel = this.cache.get(k, outLen, constants, args);
    return (await kernel(...(resolveArgs(args) as never[]))) as unknown as Handle;
  }

  private splice(d: DeviceTensor, src: Handle, srcSize: number, off: number, srcOff: number, len: number): Promise<Handle> {
    const srcArg: ArrayArg = { size: srcSize, get: () => src };
    return this.call(spliceSource, d.phys, { len }, [this.whole(d), srcArg, off, srcOff]);
  }

  /** d's storage as a kernel argument. */
  private whole(d: DeviceTensor): ArrayArg {
    return { size: d.phys, get: () => d.h };
  }

  private replace(d: DeviceTensor, h: Handle): void {
    const old = d.h;
    d.h = h;
    if (old !== h) release(old);
  }

  private enqueue(step: () => unknown): Promise<void> {
    this.tail = this.tail.then(async () => {
      if (this.failure !== null) return;
      try {
        await step();
      } catch (e) {
        this.failure = e;
      }
    });
    return this.tail;
  }

  private rethrow(): void {
    if (this.failure !== null) throw this.failure;
  }

  private live(): void {
    if (this.disposed) throw new Error('this gpu.js engine has been disposed');
  }
}
