// Tensor handles and argument checks. A tensor is a byte address in the engine's memory; checks
// turn a bad offset or length into a RangeError here instead of silent corruption in a kernel.
import type { Tensor } from '../engine.js';

export class SimdTensor implements Tensor {
  constructor(readonly size: number, readonly ptr: number, readonly owner: object) {}
}

export function isCount(n: number): boolean {
  return Number.isInteger(n) && n >= 0;
}

export function checkCount(n: number, what: string): void {
  if (!isCount(n)) throw new RangeError(`simd engine: ${what} must be a non-negative integer, got ${n}`);
}

/** Byte address of t[off] after checking that t[off, off+len) lies inside t. */
export function addr(owner: object, t: Tensor, off: number | undefined, len: number, what: string): number {
  if (!(t instanceof SimdTensor) || t.owner !== owner) {
    throw new TypeError(`simd engine: ${what} is not a tensor of this engine`);
  }
  const o = off ?? 0;
  if (!isCount(o) || !isCount(len) || o + len > t.size) {
    throw new RangeError(`simd engine: ${what}[${o}, ${o}+${len}) is outside its tensor of ${t.size} floats`);
  }
  return t.ptr + o * 4;
}

/** Ids must be integers in [0, limit): kernels index memory with them. */
export function checkIds(view: Float32Array, limit: number, what: string): void {
  for (let i = 0; i < view.length; i++) {
    const v = view[i];
    if (!(v >= 0 && v < limit && Number.isInteger(v))) {
      throw new RangeError(`simd engine: ${what}[${i}] = ${v} is not an id in [0, ${limit})`);
    }
  }
}
