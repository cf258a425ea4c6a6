// What the gpu.js ops (gpujs-engine.ts) need from a storage backend. The same op code runs on host
// storage (cpu, webasm: Float32Array, kernels run at once) and device storage (textures or
// buffers, kernels recorded into a serial queue), so arguments are resolved lazily: `get()` is
// only called when the kernel actually runs.
import type { Tensor } from '../engine-api.js';
import type { KernelSource } from './kernels.js';

export interface GTensor extends Tensor {
  readonly size: number;
}

/** An array argument of a kernel: a tensor's storage or another kernel's output. */
export interface ArrayArg {
  /** Length of the array the kernel sees; part of the compiled kernel's identity. */
  readonly size: number;
  get(): unknown;
}

export type KernelArg = ArrayArg | number;

export interface Backend {
  /** Tensors live on a device (a read waits for the queue): Engine.readsBlock. */
  readonly device: boolean;
  tensor(size: number): GTensor;
  /** The (array, offset) argument pair through which a kernel reads t[off, off+len). */
  range(t: Tensor, off: number, len: number): [ArrayArg, number];
  /** Runs (or records) a kernel with a flat output of outLen floats. */
  run(k: KernelSource, outLen: number, constants: Record<string, number>, args: KernelArg[]): ArrayArg;
  /**
   * Runs a kernel and stores its output at t[off, off+len), in one launch whatever the range: on a
   * device the kernel writes the whole tensor, its other values carried through (see intoRange).
   */
  emit(t: Tensor, off: number, len: number, k: KernelSource, constants: Record<string, number>, args: KernelArg[]): void;
  /**
   * Device storage only: runs a kernel whose thread i returns four floats ([a, b, c, d]) and keeps
   * them as t[off + 4i, off + 4i + 4), len / 4 threads (off and len multiples of 4). What lets one
   * thread write several values without a kernel map: a fused timestep's, or a matrix product's
   * four neighbouring columns (one read of A for four products).
   */
  emit4?(t: Tensor, off: number, len: number, k: KernelSource, constants: Record<string, number>, args: KernelArg[]): void;
  /** Stores a kernel output into t[off, off+len); the output must not be used afterwards. */
  commit(t: Tensor, off: number, out: ArrayArg, len: number): void;
  /** Releases a kernel output that was never committed. */
  free(out: ArrayArg): void;
  /** Releases a tensor's storage (Engine.free). */
  drop(t: Tensor): void;
  write(t: Tensor, data: Float32Array, off: number): void;
  read(t: Tensor, off: number, len: number): Promise<Float32Array>;
  zero(t: Tensor, off: number, len: number): void;
  /** t[off, off+len) in place, where storage is host memory (ids are checked through it). */
  view?(t: Tensor, off: number, len: number): Float32Array;
  copy(dst: Tensor, dstOff: number, src: Tensor, srcOff: number, len: number): void;
  sync(): Promise<void>;
  dispose(): void;
}

/**
 * The storages' own invariant on the sub-ranges the gpu.js engine computes for kernel passes; the
 * ranges callers pass are checked before, once, by the op layer (../op-layer.ts).
 */
export function checkRange(t: GTensor, off: number, len: number, what: string): void {
  if (!Number.isInteger(off) || !Number.isInteger(len) || off < 0 || len < 0 || off + len > t.size) {
    throw new RangeError(`${what}: range [${off}, ${off + len}) is outside a tensor of ${t.size} floats`);
  }
}
