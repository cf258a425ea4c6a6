// What every op needs: operand addresses, the argument block, and the decision to run on all
// threads or on the caller's alone.
import type { Tensor } from '../engine-api.js';
import type { Arena } from './arena.js';
import type { Op } from './op-table.js';
import type { Pool } from './pool.js';
import type { SimdTensor } from './tensor.js';

export class Ctx {
  disposed = false;
  /** Whole-B packed copies kept for matmul's bCache, by B's address·2 + transB. */
  readonly packs = new Map<number, { ptr: number; k: number; n: number; bytes: number }>();

  constructor(readonly arena: Arena, readonly pool: Pool, private readonly force: boolean) {}

  /** The argument block for the next command (checks the engine is still alive). */
  args(): Float64Array {
    if (this.disposed) throw new Error('simd engine: used after dispose()');
    return this.pool.args;
  }

  /** Byte address of t[off] for an operand the op layer (../op-layer.ts) has already checked. */
  ptr(t: Tensor, off: number): number {
    return (t as SimdTensor).ptr + off * 4;
  }

  /**
   * Forgets the packed copies of any B inside [start, end) (a tensor being freed): its address may
   * be handed to another tensor, whose first product must not find a stale pack.
   */
  dropPacks(start: number, end: number): void {
    for (const [key, p] of this.packs) {
      const b = Math.floor(key / 2);
      if (b >= start && b < end) {
        this.arena.free(p.ptr, p.bytes);
        this.packs.delete(key);
      }
    }
  }

  /** Runs op on all threads when `work` reaches `min` (or always, when forced), else here. */
  exec(op: Op, work: number, min: number): void {
    this.pool.exec(op, this.force || work >= min);
  }
}

// Below these sizes waking the workers costs more than it saves (measured: about 1.5 µs per
// command while they spin, tens of µs once they sleep).
export const PAR_FLOPS = 1 << 17;
export const PAR_FLOATS = 1 << 15;
export const PAR_CELLS = 1 << 11;
