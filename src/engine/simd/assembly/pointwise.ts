// Elementwise ops over [0, len): threads claim blocks of whole 64-float units, the tail runs the same
// vector code one lane at a time. In-place calls are safe: each element is read before written.
import { claim, flatBlock } from './layout';
import { ld, st } from './lanes';
import { vsigmoid, vtanh } from './vmath';

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

/** tanh(√(2/π)·(x + 0.044715·x³)) */
@inline export function geluT(x: v128): v128 {
  const x3 = f32x4.mul(f32x4.mul(x, x), x);
  return vtanh(f32x4.mul(f32x4.splat(GELU_C), f32x4.add(x, f32x4.mul(f32x4.splat(GELU_A), x3))));
}
@inline function gelu1(o: usize, x: usize, w: bool): void {
  const xv = ld(x, w), half = f32x4.splat(0.5);
  st(o, f32x4.mul(f32x4.mul(half, xv), f32x4.add(f32x4.splat(1), geluT(xv))), w);
}
export function geluForward(out: usize, x: usize, len: i32, tid: i32, nt: i32): void {
  const bs = flatBlock(len, nt);
  for (let lo = claim() * bs; lo < len; lo = claim() * bs) {
    let i = lo;
    const e = min(len, lo + bs);
    for (; i + 4 <= e; i += 4) { const q = <usize>i << 2; gelu1(out + q, x + q, true); }
    for (; i < e; i++) { const q = <usize>i << 2; gelu1(out + q, x + q, false); }
  }
}

@inline function dgelu1(dx: usize, x: usize, dy: usize, w: bool): void {
  const xv = ld(x, w), t = geluT(xv), one = f32x4.splat(1), half = f32x4.splat(0.5);
  // 0.5(1 + t) + 0.5·x·(1 − t²)·c·(1 + 3a·x²), the polynomial over x clamped to ±20: beyond that
  // 1 − t² is exactly 0, and x² would overflow for huge x (0·∞ = NaN).
  const xc = f32x4.max(f32x4.min(xv, f32x4.splat(20)), f32x4.splat(-20));
  const inner = f32x4.mul(f32x4.splat(GELU_C), f32x4.add(one, f32x4.mul(f32x4.splat(3 * GELU_A), f32x4.mul(xc, xc))));
  const grad = f32x4.add(f32x4.mul(half, f32x4.add(one, t)),
    f32x4.mul(f32x4.mul(f32x4.mul(half, xc), f32x4.sub(one, f32x4.mul(t, t))), inner));
  st(dx, f32x4.mul(ld(dy, w), grad), w);
}
export function geluBackward(dx: usize, x: usize, dy: usize, len: i32, tid: i32, nt: i32): void {
  const bs = flatBlock(len, nt);
  for (let lo = claim() * bs; lo < len; lo = claim() * bs) {
    let i = lo;
    const e = min(len, lo + bs);
    for (; i + 4 <= e; i += 4) { const q = <usize>i << 2; dgelu1(dx + q, x + q, dy + q, true); }
    for (; i < e; i++) { const q = <usize>i << 2; dgelu1(dx + q, x + q, dy + q, false); }
  }
}

/** Helper for the scan cells: g(x) = x + 0.5 for x ≥ 0, σ(x) otherwise. */
@inline export function vg(x: v128): v128 {
  return v128.bitselect(f32x4.add(x, f32x4.splat(0.5)), vsigmoid(x), f32x4.ge(x, f32x4.splat(0)));
}
/** g'(x) = 1 for x ≥ 0, σ(x)(1 − σ(x)) otherwise. */
@inline export function vdg(x: v128): v128 {
  const s = vsigmoid(x), one = f32x4.splat(1);
  return v128.bitselect(one, f32x4.mul(s, f32x4.sub(one, s)), f32x4.ge(x, f32x4.splat(0)));
}
