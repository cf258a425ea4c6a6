// RMSNorm over rows. Backward runs in two commands so neither races nor depends on the thread
// count: dx by rows (each row's own reduction), then dw by columns (each column summed in row order).
import { blockOf, claim } from './kernel-layout';
import { ld, st } from './lanes';
import { madd } from './madd';

/** Σ_j a[j]·b[j]·c[j] (c optional): lanes in j order, then a fixed lane order, then the tail. */
@inline function dot3(a: usize, b: usize, c: usize, n: i32, useC: bool): f32 {
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const q = <usize>j << 2;
    let v = f32x4.mul(v128.load(a + q), v128.load(b + q));
    if (useC) v = f32x4.mul(v, v128.load(c + q));
    acc = f32x4.add(acc, v);
  }
  let s = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (; j < n; j++) {
    const q = <usize>j << 2;
    let v = load<f32>(a + q) * load<f32>(b + q);
    if (useC) v *= load<f32>(c + q);
    s += v;
  }
  return s;
}

export function rmsNormForward(x: usize, w: usize, out: usize, rstd: usize, rows: i32, cols: i32, eps: f32,
  tid: i32, nt: i32): void {
  const rb = <usize>cols << 2;
  const bs = blockOf(rows, nt, 1);
  for (let r0 = claim() * bs; r0 < rows; r0 = claim() * bs) for (let r = r0, e = min(rows, r0 + bs); r < e; r++) {
    const X = x + <usize>r * rb, O = out + <usize>r * rb;
    const ss = dot3(X, X, 0, cols, false);
    const rs = <f32>(1.0 / Math.sqrt(<f64>ss / <f64>cols + <f64>eps));
    store<f32>(rstd + (<usize>r << 2), rs);
    const v = f32x4.splat(rs);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const q = <usize>j << 2;
      st(O + q, f32x4.mul(f32x4.mul(ld(X + q, true), v), ld(w + q, true)), true);
    }
    for (; j < cols; j++) {
      const q = <usize>j << 2;
      st(O + q, f32x4.mul(f32x4.mul(ld(X + q, false), v), ld(w + q, false)), false);
    }
  }
}

/** dx = base + rstd·(w·dy − x·k), k = rstd²·mean(x·w·dy); base is dx itself or a residual's gradient. */
export function rmsNormBackwardDx(x: usize, w: usize, rstd: usize, dOut: usize, dx: usize, rows: i32, cols: i32,
  base: usize, tid: i32, nt: i32): void {
  const rb = <usize>cols << 2;
  const bs = blockOf(rows, nt, 1);
  for (let r0 = claim() * bs; r0 < rows; r0 = claim() * bs) for (let r = r0, e = min(rows, r0 + bs); r < e; r++) {
    const X = x + <usize>r * rb, G = dOut + <usize>r * rb, D = dx + <usize>r * rb, R = base + <usize>r * rb;
    const rs = load<f32>(rstd + (<usize>r << 2));
    const k = f32x4.splat(rs * rs * dot3(X, w, G, cols, true) / <f32>cols), vr = f32x4.splat(rs);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const q = <usize>j << 2;
      const t = f32x4.sub(f32x4.mul(ld(w + q, true), ld(G + q, true)), f32x4.mul(ld(X + q, true), k));
      st(D + q, madd(vr, t, ld(R + q, true)), true);
    }
    for (; j < cols; j++) {
      const q = <usize>j << 2;
      const t = f32x4.sub(f32x4.mul(ld(w + q, false), ld(G + q, false)), f32x4.mul(ld(X + q, false), k));
      st(D + q, madd(vr, t, ld(R + q, false)), false);
    }
  }
}

/** dw[j] += Σ_r dy·x·rstd in row order; threads claim blocks of column quads, rows stream through. */
export function rmsNormBackwardDw(x: usize, rstd: usize, dOut: usize, dw: usize, rows: i32, cols: i32,
  tid: i32, nt: i32): void {
  const quads = (cols + 3) >> 2, bs = blockOf(quads, nt, 1);
  for (let q0 = claim() * bs; q0 < quads; q0 = claim() * bs) dwColumns(x, rstd, dOut, dw, rows, cols, q0 << 2, min(cols, (q0 + bs) << 2));
}

function dwColumns(x: usize, rstd: usize, dOut: usize, dw: usize, rows: i32, cols: i32, c0: i32, c1: i32): void {
  const rb = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const rs = f32x4.splat(load<f32>(rstd + (<usize>r << 2)));
    const X = x + <usize>r * rb, G = dOut + <usize>r * rb;
    let j = c0;
    for (; j + 4 <= c1; j += 4) {
      const q = <usize>j << 2;
      st(dw + q, f32x4.add(ld(dw + q, true), f32x4.mul(f32x4.mul(ld(G + q, true), ld(X + q, true)), rs)), true);
    }
    for (; j < c1; j++) {
      const q = <usize>j << 2;
      st(dw + q, f32x4.add(ld(dw + q, false), f32x4.mul(f32x4.mul(ld(G + q, false), ld(X + q, false)), rs)), false);
    }
  }
}
