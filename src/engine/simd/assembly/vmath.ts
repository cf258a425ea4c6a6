// Vector transcendental functions (f32x4), accurate to a few ulp: Cephes-style range reduction
// and polynomials, so the gates match a float32 reference closely.

// Limits keep 2^n a normal float: n stays within [-126, 127].
const EXP_HI: f32 = 88.3762626647949;
const EXP_LO: f32 = -87.33654;
const MAGIC: f32 = 12582912 + 127;

@inline export function vexp(x: v128): v128 {
  // pmin/pmax are single instructions; min/max carry wasm's NaN rules and cost several.
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(EXP_LO)), f32x4.splat(EXP_HI));
  // Adding 1.5·2^23 + 127 rounds x·log2(e) to an integer n and leaves n + 127 in the low mantissa
  // bits, which shifted into the exponent field give 2^n (cheaper than nearest + trunc_sat).
  const j = f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), f32x4.splat(MAGIC));
  const n = f32x4.sub(j, f32x4.splat(MAGIC));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1));
  return f32x4.mul(p, i32x4.shl(j, 23));
}

@inline export function vsigmoid(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, vexp(f32x4.neg(x))));
}

/** tanh: odd polynomial near zero (keeps relative accuracy for small x), exp form elsewhere. */
@inline export function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422e-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  const e = vexp(f32x4.add(ax, ax));
  const one = f32x4.splat(1);
  const big = f32x4.sub(one, f32x4.div(f32x4.splat(2), f32x4.add(e, one)));
  // Copy the sign of x onto the large-|x| result.
  const signed = v128.or(big, v128.and(x, f32x4.splat(-0.0)));
  return v128.bitselect(small, signed, f32x4.lt(ax, f32x4.splat(0.625)));
}

/** Natural log of a positive finite double (scalar; once per softmax row). */
export function logPositive(x: f64): f64 {
  const bits = reinterpret<u64>(x);
  let e = <i32>((bits >> 52) & 0x7ff) - 1023;
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  if (m > 1.4142135623730951) { m *= 0.5; e += 1; }
  // log(m) = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.1716.
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let t = 1.0 / 19;
  for (let k = 17; k >= 1; k -= 2) t = t * s2 + 1.0 / k;
  return 2 * s * t + <f64>e * 0.6931471805599453;
}
