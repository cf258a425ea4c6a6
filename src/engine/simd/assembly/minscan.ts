// minGRU / minLSTM over a whole chunk: h_t = a_t·h_{t−1} + b_t per channel. Threads claim
// blocks of batch rows.
import { blockOf, claim } from './kernel-layout';
import { ld, st } from './lanes';
import { vsigmoid } from './vmath';
import { vg } from './pointwise';
import { madd } from './madd';

/** Four channels (or one) of a (t, b) row: their activations, then h_{t+1} = a·h_t + coef·g(u). */
@inline function fwdQuad(p: usize, o: usize, hp: usize, hn: usize, rp: usize, sp: usize, hb: usize, lstm: bool, res: bool,
  w: bool): void {
  const ku: usize = lstm ? hb << 1 : hb;
  let a: v128, coef: v128;
  if (lstm) {
    const f = vsigmoid(ld(p, w)), i = vsigmoid(ld(p + hb, w));
    const s = f32x4.add(f, i);
    a = f32x4.div(f, s); coef = f32x4.div(i, s);
    st(o, a, w); st(o + hb, coef, w);
  } else {
    const z = vsigmoid(ld(p, w));
    st(o, z, w);
    a = f32x4.sub(f32x4.splat(1), z); coef = z;
  }
  const u = vg(ld(p + ku, w));
  st(o + ku, u, w);
  const hv = madd(a, ld(hp, w), f32x4.mul(coef, u));
  st(hn, hv, w);
  if (res) st(sp, f32x4.add(ld(rp, w), hv), w);
}

/** `res` and `sum` (0: none): sum = res + h, the residual stream, written with h. */
export function minScanForward(lstm: bool, proj: usize, act: usize, h: usize, steps: i32, batch: i32, hidden: i32,
  res: usize, sum: usize, tid: i32, nt: i32): void {
  // Call sites with constant flags give branch-free specializations.
  if (res) {
    if (lstm) scanF(true, true, proj, act, h, res, sum, steps, batch, hidden, tid, nt);
    else scanF(false, true, proj, act, h, res, sum, steps, batch, hidden, tid, nt);
  } else {
    if (lstm) scanF(true, false, proj, act, h, 0, 0, steps, batch, hidden, tid, nt);
    else scanF(false, false, proj, act, h, 0, 0, steps, batch, hidden, tid, nt);
  }
}

// Time outer, channels inner: every row of proj, act and h is read and written contiguously, and
// h_t comes back from cache (this thread wrote it one step earlier, a few rows back); the
// channels' recurrences are independent, so nothing waits on a dependency chain.
@inline function scanF(lstm: bool, withRes: bool, proj: usize, act: usize, h: usize, res: usize, sum: usize, steps: i32,
  batch: i32, hidden: i32, tid: i32, nt: i32): void {
  const k: usize = lstm ? 3 : 2, hb = <usize>hidden << 2, rb = k * hb;
  const hv = hidden & ~3;
  const bs = blockOf(batch, nt, 1);
  for (let b0 = claim() * bs; b0 < batch; b0 = claim() * bs) for (let t = 0, b1 = min(batch, b0 + bs); t < steps; t++) {
    for (let b = b0; b < b1; b++) {
      const row = <usize>t * <usize>batch + <usize>b;
      const P = proj + row * rb, A = act + row * rb, Hp = h + row * hb, Hn = Hp + <usize>batch * hb;
      const R = res + row * hb, S = sum + row * hb;
      let j = 0;
      for (; j < hv; j += 4) {
        const q = <usize>j << 2;
        fwdQuad(P + q, A + q, Hp + q, Hn + q, R + q, S + q, hb, lstm, withRes, true);
      }
      for (; j < hidden; j++) {
        const q = <usize>j << 2;
        fwdQuad(P + q, A + q, Hp + q, Hn + q, R + q, S + q, hb, lstm, withRes, false);
      }
    }
  }
}

/** g'(x) from u = g(x): 1 for x ≥ 0, else σ(x)(1 − σ(x)) with σ(x) = u (no exp). */
@inline function dgOf(x: v128, u: v128): v128 {
  const one = f32x4.splat(1);
  return v128.bitselect(one, f32x4.mul(u, f32x4.sub(one, u)), f32x4.ge(x, f32x4.splat(0)));
}

/**
 * One (t, b) row's gradient for the channels at these addresses, given the gradient flowing back
 * from h_{t+1} (carry); returns the carry for h_t.
 */
@inline function bwdStep(p: usize, o: usize, d: usize, dhp: usize, hp: usize, carry: v128, hb: usize, lstm: bool,
  w: bool): v128 {
  const one = f32x4.splat(1);
  const ku: usize = lstm ? hb << 1 : hb;
  const gt = f32x4.add(carry, ld(dhp, w));
  const hPrev = ld(hp, w), u = ld(o + ku, w);
  const coefIdx: usize = lstm ? hb : 0;
  st(d + ku, f32x4.mul(f32x4.mul(gt, ld(o + coefIdx, w)), dgOf(ld(p + ku, w), u)), w);
  if (lstm) {
    const a = ld(o, w), c = ld(o + hb, w);
    const sf = vsigmoid(ld(p, w)), si = vsigmoid(ld(p + hb, w));
    const dA = f32x4.mul(gt, f32x4.sub(hPrev, u));
    const dac = f32x4.mul(f32x4.mul(dA, a), c);
    st(d, f32x4.mul(dac, f32x4.sub(one, sf)), w);
    st(d + hb, f32x4.neg(f32x4.mul(dac, f32x4.sub(one, si))), w);
    return f32x4.mul(gt, a);
  }
  const z = ld(o, w);
  st(d, f32x4.mul(f32x4.mul(f32x4.mul(gt, f32x4.sub(u, hPrev)), z), f32x4.sub(one, z)), w);
  return f32x4.mul(gt, f32x4.sub(one, z));
}

export function minScanBackward(lstm: bool, proj: usize, act: usize, h: usize, dh: usize, dProj: usize, steps: i32,
  batch: i32, hidden: i32, tid: i32, nt: i32): void {
  if (lstm) scanB(true, proj, act, h, dh, dProj, steps, batch, hidden, tid, nt);
  else scanB(false, proj, act, h, dh, dProj, steps, batch, hidden, tid, nt);
}

// Each channel (4 lanes wide where it can) goes back through time with its carry in a register:
// measured faster here than streaming rows with the carry parked in memory.
@inline function scanB(lstm: bool, proj: usize, act: usize, h: usize, dh: usize, dProj: usize, steps: i32,
  batch: i32, hidden: i32, tid: i32, nt: i32): void {
  const k: usize = lstm ? 3 : 2, hb = <usize>hidden << 2, rb = k * hb;
  const rowB = <usize>batch * rb, hRowB = <usize>batch * hb, hv = hidden & ~3;
  const bs = blockOf(batch, nt, 1);
  for (let b0 = claim() * bs; b0 < batch; b0 = claim() * bs) for (let b = b0, e = min(batch, b0 + bs); b < e; b++) {
    const P = proj + <usize>b * rb, A = act + <usize>b * rb, D = dProj + <usize>b * rb;
    const Hh = h + <usize>b * hb, DH = dh + <usize>b * hb;
    let j = 0;
    for (; j < hv; j += 4) bwdChannel(P, A, D, DH, Hh, <usize>j << 2, steps, rowB, hRowB, hb, lstm, true);
    for (; j < hidden; j++) bwdChannel(P, A, D, DH, Hh, <usize>j << 2, steps, rowB, hRowB, hb, lstm, false);
  }
}

@inline function bwdChannel(P: usize, A: usize, D: usize, DH: usize, Hh: usize, q: usize, steps: i32, rowB: usize,
  hRowB: usize, hb: usize, lstm: bool, w: bool): void {
  let c = f32x4.splat(0);
  for (let t = steps - 1; t >= 0; t--) {
    const r = <usize>t * rowB + q, s = <usize>t * hRowB + q;
    c = bwdStep(P + r, A + r, D + r, DH + s, Hh + s, c, hb, lstm, w);
  }
}
