// The 4×8 register tile: C[4×8] (+)= Apanel·Bpanel with A packed [p][4] and B packed [p][8].
// One p-step per iteration on purpose: V8 hoists the loads of unrolled bodies and spills the
// accumulators (measured slower). 8 accumulators + 2 B + 1 A + 1 temp fit the 15 usable xmm.
// Each lane accumulates in p order with a separate multiply and add, so every element of C is
// the plain sequential float32 sum, whatever the blocking or the thread split.

import { madd } from './madd';

@inline function fma(acc: v128, a: v128, b: v128): v128 {
  return madd(a, b, acc);
}

/** `bias` (0: none) points at 8 floats that start each row's sums, after C's values unless `zero`. */
@inline export function tile4x8(a: usize, b: usize, c: usize, cs: usize, k: i32, zero: bool, bias: usize): void {
  let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128;
  if (zero) {
    c00 = f32x4.splat(0); c01 = c00;
    if (bias) { c00 = v128.load(bias); c01 = v128.load(bias, 16); }
    c10 = c00; c11 = c01; c20 = c00; c21 = c01; c30 = c00; c31 = c01;
  } else {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + cs); c11 = v128.load(c + cs, 16);
    c20 = v128.load(c + 2 * cs); c21 = v128.load(c + 2 * cs, 16);
    c30 = v128.load(c + 3 * cs); c31 = v128.load(c + 3 * cs, 16);
    if (bias) {
      const b0 = v128.load(bias), b1 = v128.load(bias, 16);
      c00 = f32x4.add(c00, b0); c01 = f32x4.add(c01, b1); c10 = f32x4.add(c10, b0); c11 = f32x4.add(c11, b1);
      c20 = f32x4.add(c20, b0); c21 = f32x4.add(c21, b1); c30 = f32x4.add(c30, b0); c31 = f32x4.add(c31, b1);
    }
  }
  const ae = a + (<usize>k << 4);
  while (a < ae) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let x = v128.load32_splat(a); c00 = fma(c00, x, b0); c01 = fma(c01, x, b1);
    x = v128.load32_splat(a, 4); c10 = fma(c10, x, b0); c11 = fma(c11, x, b1);
    x = v128.load32_splat(a, 8); c20 = fma(c20, x, b0); c21 = fma(c21, x, b1);
    x = v128.load32_splat(a, 12); c30 = fma(c30, x, b0); c31 = fma(c31, x, b1);
    a += 16; b += 32;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + cs, c10); v128.store(c + cs, c11, 16);
  v128.store(c + 2 * cs, c20); v128.store(c + 2 * cs, c21, 16);
  v128.store(c + 3 * cs, c30); v128.store(c + 3 * cs, c31, 16);
}
