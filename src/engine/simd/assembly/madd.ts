// a·b + c, fused into one rounding where the module is built with relaxed SIMD (the "relaxed"
// kernel variant); a separate multiply and add otherwise. Every product in the kernels goes
// through here, so the two variants differ only in this rounding.
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}
