// What every op needs: checked addresses, the argument block, and the decision to run on all
// threads or on the caller's alone.
import type { Tensor } from '../engine.js';
import type { Arena } from './arena.js';
import type { Op } from './layout.js';
import type { Pool } from './pool.js';
import { addr, checkIds } from './tensor.js';

export class Ctx {
  disposed = false;
  /** Whole-B packed copies kept for matmul's bCache, by B's address, shape and transB. */
  readonly packs = new Map<string, number>();

  constructor(readonly arena: Arena, readonly pool: Pool, private readonly force: boolean) {}

  /** The argument block for the next command (checks the engine is still alive). */
  args(): Float64Array {
    if (this.disposed) throw new Error('simd engine: used after dispose()');
    return this.pool.args;
  }

  /** Byte address of t[off], after checking t[off, off+len) is a range of this engine's tensor. */
  at(t: Tensor, off: number | undefined, len: number, what: string): number {
    return addr(this, t, off, len, what);
  }

  /** Checks n ids at byte address p are integers in [0, limit). */
  ids(p: number, n: number, limit: number, what: string): void {
    checkIds(this.arena.f32(p, n), limit, what);
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
