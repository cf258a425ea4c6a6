// Fixed addresses shared with the JavaScript side (src/engine/simd/shared-layout.ts): the command block
// lives in low memory, below the tensor arena, so its views never move when memory grows.
export const CTL: usize = 64;
export const ARGS: usize = 128;

/** The i-th argument of the current command. */
@inline export function argF(i: i32): f64 {
  return load<f64>(ARGS + (<usize>i << 3));
}
@inline export function argI(i: i32): i32 {
  return <i32>load<f64>(ARGS + (<usize>i << 3));
}
@inline export function argP(i: i32): usize {
  return <usize><u32>load<f64>(ARGS + (<usize>i << 3));
}

/**
 * Byte address of the work counter: the threads of a command claim blocks 0, 1, 2, ... from it, so
 * a thread that loses its core mid-op holds up one block, not a fixed half, and a thread that
 * wakes late finds the work done. The main thread zeroes it before it publishes each command
 * (src/engine/simd/pool.ts). On a cache line of its own: every claim writes it.
 */
export const NEXT: usize = 960;

/**
 * Blocks per thread when threads claim blocks: enough that the blocks left when one thread
 * stalls are a small part of the op, few enough that a claim (one atomic add) costs nothing
 * measurable next to a block.
 */
export const BLOCKS_PER_THREAD: i32 = 4;

/** The next unclaimed block of the current command (past the last block: none left). */
@inline export function claim(): i32 {
  return atomic.add<i32>(NEXT, 1);
}

/** Items per block when nt threads share `items` items, at least `least`; one block for one thread. */
@inline export function blockOf(items: i32, nt: i32, least: i32): i32 {
  if (nt <= 1) return max(items, 1);
  const want = nt * BLOCKS_PER_THREAD;
  return max(least, (items + want - 1) / want);
}

/** Floats per block of a flat range of len floats: whole UNITs, so blocks stay 16-byte aligned. */
@inline export function flatBlock(len: i32, nt: i32): i32 {
  return blockOf((len + UNIT - 1) / UNIT, nt, 1) * UNIT;
}

/** Start of thread tid's share of `total` units; shares are contiguous and in thread order. */
@inline export function share(total: i32, tid: i32, nt: i32): i32 {
  return <i32>((<i64>total * tid) / nt);
}

/** Floats per unit when threads split a flat range: shares stay 16-byte aligned to the start. */
export const UNIT: i32 = 64;
