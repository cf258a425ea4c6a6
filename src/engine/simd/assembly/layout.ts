// Fixed addresses shared with the JavaScript side (src/engine/simd/layout.ts): the command block
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

/** Start of thread tid's share of `total` units; shares are contiguous and in thread order. */
@inline export function share(total: i32, tid: i32, nt: i32): i32 {
  return <i32>((<i64>total * tid) / nt);
}

/** Floats per unit when threads split a flat range: shares stay 16-byte aligned to the start. */
export const UNIT: i32 = 64;

/** Thread tid's share [unitLo, unitHi) of a flat range of len floats. */
@inline export function unitLo(len: i32, tid: i32, nt: i32): i32 {
  return share((len + UNIT - 1) / UNIT, tid, nt) * UNIT;
}
@inline export function unitHi(len: i32, tid: i32, nt: i32): i32 {
  return min(len, share((len + UNIT - 1) / UNIT, tid + 1, nt) * UNIT);
}
