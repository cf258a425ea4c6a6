// Elementwise ops over [0, len): threads claim blocks of whole 64-float units, the tail runs the same
// vector code one lane at a time. In-place calls are safe: each element is read before written.
import { claim, flatBlock } from './kernel-layout';
import { ld, st } from './lanes';
import { vexp, vsigmoid, vtanh } from './vmath';
import { madd } from './madd';

const GELU_C: f32 = 0.7978845608028654; // sqrt(2/pi)
const GELU_A: f32 = 0.044715;

@inline function mul1(o: usize, a: usize, b: usize, w: bool): void {
  st(o, f32x4.mul(ld(a, w), ld(b, w)), w);
}
export function mul(out: usize, a: usize, b: usize, len: i32, tid: i32, nt: i32): void {
  const bs = flatBlock(len, nt);
  for (let lo = claim() * bs; lo < len; lo = claim() * bs) {
    let i = lo;
    const e = min(len, lo + bs);
    for (; i + 4 <= e; i += 4) { const q = <usize>i << 2; mul1(out + q, a + q, b + q, true); }
    for (; i < e; i++) { const q = <usize>i << 2; mul1(out + q, a + q, b + q, false); }
  }
}

@inline function add1(o: usize, a: usize, b: usize, w: bool): void {
  st(o, f32x4.add(ld(a, w), ld(b, w)), w);
}
export function add(out: usize, a: usize, b: usize, len: i32, tid: i32, nt: i32): void {
  const bs = flatBlock(len, nt);
  for (let lo = claim() * bs; lo < len; lo = claim() * bs) {
    let i = lo;
    const e = min(len, lo + bs);
    for (; i + 4 <= e; i += 4) { const q = <usize>i << 2; add1(out + q, a + q, b + q, true); }
    for (; i < e; i++) { const q = <usize>i << 2; add1(out + q, a + q, b + q, false); }
  }
}

@inline function tanh1(o: usize, x: usize, w: bool): void {
  st(o, vtanh(ld(x, w)), w);
}
export function tanhForward(out: usize, x: usize, len: i32, tid: i32, nt: i32): void {
  const bs = flatBlock(len, nt);
  for (let lo = claim() * bs; lo < len; lo = claim() * bs) {
    let i = lo;
    const e = min(len, lo + bs);
    for (; i + 4 <= e; i += 4) { const q = <usize>i << 2; tanh1(out + q, x + q, true); }
    for (; i < e; i++) { const q = <usize>i << 2; tanh1(out + q, x + q, false); }
  }
}

@inline function dtanh1(dx: usize, y: usize, dy: usize, w: bool): void {
  const yv = ld(y, w);
  st(dx, f32x4.mul(ld(dy, w), f32x4.sub(f32x4.splat(1), f32x4.mul(yv, yv))), w);
}
export function tanhBackward(dx: usize, y: usize, dy: usize, len: i32, tid: i32, nt: i32): void {
  const bs = flatBlock(len, nt);
  for (let lo = claim() * bs; lo < len; lo = claim() * bs) {
    let i = lo;
    const e = min(len, lo + bs);
    for (; i + 4 <= e; i += 4) { const q = <usize>i << 2; dtanh1(dx + q, y + q, dy + q, true); }
    for (; i < e; i++) { const q = <usize>i << 2; dtanh1(dx + q, y + q, dy + q, false); }
  }
}

// GELU's tanh form rewritten through 0.5·(1 + tanh(u)) = σ(2u): gelu(x) = x·σ(2u) with
// 2u = x·(2c + 2c·a·x²). One exp and one division per element instead of tanh's polynomial, exp,
// division and select; the same function, and no cancellation in 1 + tanh(u) for negative x.
const GELU_K1: f32 = 2 * GELU_C;
const GELU_K2: f32 = 2 * GELU_C * GELU_A;

/** exp(−2u), the one transcendental both directions need (vexp saturates, so it is finite). */
@inline function geluE(x: v128, x2: v128): v128 {
  return vexp(f32x4.neg(f32x4.mul(x, madd(f32x4.splat(GELU_K2), x2, f32x4.splat(GELU_K1)))));
}
@inline export function vgelu(x: v128): v128 {
  return f32x4.div(x, f32x4.add(f32x4.splat(1), geluE(x, f32x4.mul(x, x))));
}
/**
 * gelu'(x) = s + x·s·(1 − s)·2u', s = σ(2u) = 1/(1 + e), with 1 − s = e·s so nothing cancels. The
 * x·2u' factor uses x clamped to ±20: beyond that s·(1 − s) is 0 to float precision, and x² would
 * overflow for huge x (0·∞ = NaN).
 */
@inline function geluGradE(x: v128, e: v128): v128 {
  const s = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), e));
  const xc = f32x4.max(f32x4.min(x, f32x4.splat(20)), f32x4.splat(-20));
  const du = madd(f32x4.splat(3 * GELU_K2), f32x4.mul(xc, xc), f32x4.splat(GELU_K1));
  return madd(f32x4.mul(f32x4.mul(xc, s), f32x4.mul(e, s)), du, s);
}
/** One quad (or lane): out = gelu(x), and e = exp(−2u) stored for the backward pass when `keep`. */
@inline function gelu1(o: usize, x: usize, ep: usize, keep: bool, w: bool): void {
  const xv = ld(x, w), e = geluE(xv, f32x4.mul(xv, xv));
  if (keep) st(ep, e, w);
  st(o, f32x4.div(xv, f32x4.add(f32x4.splat(1), e)), w);
}
/** `ep` (0: none) receives exp(−2u) per element, so geluBackward needs no exp of its own. */
export function geluForward(out: usize, x: usize, len: i32, ep: usize, tid: i32, nt: i32): void {
  if (ep) geluF(out, x, len, ep, true, nt);
  else geluF(out, x, len, 0, false, nt);
}
@inline function geluF(out: usize, x: usize, len: i32, ep: usize, keep: bool, nt: i32): void {
  const bs = flatBlock(len, nt);
  for (let lo = claim() * bs; lo < len; lo = claim() * bs) {
    let i = lo;
    const e = min(len, lo + bs);
    for (; i + 4 <= e; i += 4) { const q = <usize>i << 2; gelu1(out + q, x + q, ep + q, keep, true); }
    for (; i < e; i++) { const q = <usize>i << 2; gelu1(out + q, x + q, ep + q, keep, false); }
  }
}

@inline function dgelu1(dx: usize, x: usize, dy: usize, ep: usize, kept: bool, w: bool): void {
  const xv = ld(x, w);
  const e = kept ? ld(ep, w) : geluE(xv, f32x4.mul(xv, xv));
  st(dx, f32x4.mul(ld(dy, w), geluGradE(xv, e)), w);
}
/** `ep` (0: none) is exp(−2u) as geluForward stored it. */
export function geluBackward(dx: usize, x: usize, dy: usize, len: i32, ep: usize, tid: i32, nt: i32): void {
  if (ep) geluB(dx, x, dy, len, ep, true, nt);
  else geluB(dx, x, dy, len, 0, false, nt);
}
@inline function geluB(dx: usize, x: usize, dy: usize, len: i32, ep: usize, kept: bool, nt: i32): void {
  const bs = flatBlock(len, nt);
  for (let lo = claim() * bs; lo < len; lo = claim() * bs) {
    let i = lo;
    const e = min(len, lo + bs);
    for (; i + 4 <= e; i += 4) { const q = <usize>i << 2; dgelu1(dx + q, x + q, dy + q, ep + q, kept, true); }
    for (; i < e; i++) { const q = <usize>i << 2; dgelu1(dx + q, x + q, dy + q, ep + q, kept, false); }
  }
}

/** Helper for the scan cells: g(x) = x + 0.5 for x ≥ 0, σ(x) otherwise. */
@inline export function vg(x: v128): v128 {
  return v128.bitselect(f32x4.add(x, f32x4.splat(0.5)), vsigmoid(x), f32x4.ge(x, f32x4.splat(0)));
}
