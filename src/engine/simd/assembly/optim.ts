// Optimizer and gradient-norm kernels.
import { blockOf, claim, flatBlock } from './kernel-layout';

/** Floats per sumSquares partial: fixed, so the summation order is the same for any thread count. */
export const SQ_CHUNK: i32 = 4096;

/** partials[c] = Σ x² over chunk c, in float64 (two f64x2 lanes per f32x4 load). */
export function sumSquaresPartials(x: usize, len: i32, partials: usize, tid: i32, nt: i32): void {
  const chunks = (len + SQ_CHUNK - 1) / SQ_CHUNK;
  const bs = blockOf(chunks, nt, 1);
  for (let c0 = claim() * bs; c0 < chunks; c0 = claim() * bs) for (let c = c0, e = min(chunks, c0 + bs); c < e; c++) {
    const lo = c * SQ_CHUNK, hi = min(len, lo + SQ_CHUNK);
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
    let i = lo;
    for (; i + 4 <= hi; i += 4) {
      const v = v128.load(x + (<usize>i << 2));
      const lo2 = f64x2.promote_low_f32x4(v);
      const hi2 = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
      a0 = f64x2.add(a0, f64x2.mul(lo2, lo2));
      a1 = f64x2.add(a1, f64x2.mul(hi2, hi2));
    }
    let s = (f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1)) + (f64x2.extract_lane(a1, 0) + f64x2.extract_lane(a1, 1));
    for (; i < hi; i++) {
      const v = <f64>load<f32>(x + (<usize>i << 2));
      s += v * v;
    }
    store<f64>(partials + (<usize>c << 3), s);
  }
}

export function sumPartials(out: usize, partials: usize, chunks: i32): void {
  let s: f64 = 0;
  for (let c = 0; c < chunks; c++) s += load<f64>(partials + (<usize>c << 3));
  store<f32>(out, <f32>s);
}

/** AdamW with decoupled weight decay; bc1, bc2 are the bias corrections 1 − β^step. */
export function adamw(p: usize, g: usize, m: usize, v: usize, len: i32, lr: f32, b1: f32, b2: f32, eps: f32,
  wd: f32, bc1: f32, bc2: f32, gs: f32, tid: i32, nt: i32): void {
  const vdecay = f32x4.splat(1 - lr * wd), vgs = f32x4.splat(gs);
  const vb1 = f32x4.splat(b1), vb1c = f32x4.splat(1 - b1), vb2 = f32x4.splat(b2), vb2c = f32x4.splat(1 - b2);
  const vbc1 = f32x4.splat(bc1), vbc2 = f32x4.splat(bc2), veps = f32x4.splat(eps), vlr = f32x4.splat(lr);
  // Blocks are whole quads, so the scalar tail is always the range's last len % 4 elements.
  const bs = flatBlock(len, nt);
  for (let lo = claim() * bs; lo < len; lo = claim() * bs) {
    const hi = min(len, lo + bs);
    let i = lo;
    for (; i + 4 <= hi; i += 4) {
      const o = <usize>i << 2;
      const gv = f32x4.mul(v128.load(g + o), vgs);
      const mv = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vb1c, gv));
      const vv = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(vb2c, f32x4.mul(gv, gv)));
      v128.store(m + o, mv); v128.store(v + o, vv);
      const den = f32x4.add(f32x4.sqrt(f32x4.div(vv, vbc2)), veps);
      const step = f32x4.mul(vlr, f32x4.div(f32x4.div(mv, vbc1), den));
      v128.store(p + o, f32x4.sub(f32x4.mul(v128.load(p + o), vdecay), step));
    }
    for (; i < hi; i++) {
      const o = <usize>i << 2;
      const gv = load<f32>(g + o) * gs;
      const mv = b1 * load<f32>(m + o) + (1 - b1) * gv;
      const vv = b2 * load<f32>(v + o) + (1 - b2) * gv * gv;
      store<f32>(m + o, mv); store<f32>(v + o, vv);
      const step = lr * ((mv / bc1) / (Mathf.sqrt(vv / bc2) + eps));
      store<f32>(p + o, load<f32>(p + o) * (1 - lr * wd) - step);
    }
  }
}
