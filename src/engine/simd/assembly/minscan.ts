// minGRU / minLSTM over a whole chunk: h_t = a_t·h_{t−1} + b_t per channel. Threads split the
// batch rows; each channel vector keeps its state in a register across the time loop.
import { blockOf, claim } from './layout';
import { ld, st } from './lanes';
import { vsigmoid } from './vmath';
import { vg, vdg } from './pointwise';

@inline function fwdChannel(proj: usize, act: usize, h: usize, steps: i32, rowB: usize, hRowB: usize, hb: usize,
  lstm: bool, w: bool): void {
  const one = f32x4.splat(1);
  const ku: usize = lstm ? hb << 1 : hb;
  let hv = ld(h, w);
  for (let t = 0; t < steps; t++) {
    const p = proj + <usize>t * rowB, o = act + <usize>t * rowB;
    let a: v128, coef: v128;
    if (lstm) {
      const f = vsigmoid(ld(p, w)), i = vsigmoid(ld(p + hb, w));
      const s = f32x4.add(f, i);
      a = f32x4.div(f, s); coef = f32x4.div(i, s);
      st(o, a, w); st(o + hb, coef, w);
    } else {
      const z = vsigmoid(ld(p, w));
      st(o, z, w);
      a = f32x4.sub(one, z); coef = z;
    }
    const u = vg(ld(p + ku, w));
    st(o + ku, u, w);
    hv = f32x4.add(f32x4.mul(a, hv), f32x4.mul(coef, u));
    st(h + <usize>(t + 1) * hRowB, hv, w);
  }
}

export function minScanForward(lstm: bool, proj: usize, act: usize, h: usize, steps: i32, batch: i32, hidden: i32,
  tid: i32, nt: i32): void {
  // Two call sites with constant `lstm` give two branch-free specializations.
  if (lstm) scanF(true, proj, act, h, steps, batch, hidden, tid, nt);
  else scanF(false, proj, act, h, steps, batch, hidden, tid, nt);
}

@inline function scanF(lstm: bool, proj: usize, act: usize, h: usize, steps: i32, batch: i32, hidden: i32,
  tid: i32, nt: i32): void {
  const k: usize = lstm ? 3 : 2, hb = <usize>hidden << 2, rb = k * hb;
  const rowB = <usize>batch * rb, hRowB = <usize>batch * hb, hv = hidden & ~3;
  const bs = blockOf(batch, nt, 1);
  for (let b0 = claim() * bs; b0 < batch; b0 = claim() * bs) for (let b = b0, e = min(batch, b0 + bs); b < e; b++) {
    const P = proj + <usize>b * rb, A = act + <usize>b * rb, Hh = h + <usize>b * hb;
    let j = 0;
    for (; j < hv; j += 4) {
      const q = <usize>j << 2;
      fwdChannel(P + q, A + q, Hh + q, steps, rowB, hRowB, hb, lstm, true);
    }
    for (; j < hidden; j++) {
      const q = <usize>j << 2;
      fwdChannel(P + q, A + q, Hh + q, steps, rowB, hRowB, hb, lstm, false);
    }
  }
}

@inline function bwdChannel(proj: usize, act: usize, h: usize, dh: usize, dp: usize, steps: i32, rowB: usize,
  hRowB: usize, hb: usize, lstm: bool, w: bool): void {
  const one = f32x4.splat(1);
  const ku: usize = lstm ? hb << 1 : hb;
  let carry = f32x4.splat(0);
  for (let t = steps - 1; t >= 0; t--) {
    const p = proj + <usize>t * rowB, o = act + <usize>t * rowB, d = dp + <usize>t * rowB;
    const gt = f32x4.add(carry, ld(dh + <usize>t * hRowB, w));
    const hPrev = ld(h + <usize>t * hRowB, w), u = ld(o + ku, w);
    const coefIdx: usize = lstm ? hb : 0;
    st(d + ku, f32x4.mul(f32x4.mul(gt, ld(o + coefIdx, w)), vdg(ld(p + ku, w))), w);
    if (lstm) {
      const a = ld(o, w), c = ld(o + hb, w);
      const sf = vsigmoid(ld(p, w)), si = vsigmoid(ld(p + hb, w));
      const dA = f32x4.mul(gt, f32x4.sub(hPrev, u));
      const dac = f32x4.mul(f32x4.mul(dA, a), c);
      st(d, f32x4.mul(dac, f32x4.sub(one, sf)), w);
      st(d + hb, f32x4.neg(f32x4.mul(dac, f32x4.sub(one, si))), w);
      carry = f32x4.mul(gt, a);
    } else {
      const z = ld(o, w);
      st(d, f32x4.mul(f32x4.mul(f32x4.mul(gt, f32x4.sub(u, hPrev)), z), f32x4.sub(one, z)), w);
      carry = f32x4.mul(gt, f32x4.sub(one, z));
    }
  }
}

export function minScanBackward(lstm: bool, proj: usize, act: usize, h: usize, dh: usize, dProj: usize, steps: i32,
  batch: i32, hidden: i32, tid: i32, nt: i32): void {
  if (lstm) scanB(true, proj, act, h, dh, dProj, steps, batch, hidden, tid, nt);
  else scanB(false, proj, act, h, dh, dProj, steps, batch, hidden, tid, nt);
}

@inline function scanB(lstm: bool, proj: usize, act: usize, h: usize, dh: usize, dProj: usize, steps: i32,
  batch: i32, hidden: i32, tid: i32, nt: i32): void {
  const k: usize = lstm ? 3 : 2, hb = <usize>hidden << 2, rb = k * hb;
  const rowB = <usize>batch * rb, hRowB = <usize>batch * hb, hv = hidden & ~3;
  const bs = blockOf(batch, nt, 1);
  for (let b0 = claim() * bs; b0 < batch; b0 = claim() * bs) for (let b = b0, e = min(batch, b0 + bs); b < e; b++) {
    const P = proj + <usize>b * rb, A = act + <usize>b * rb, D = dProj + <usize>b * rb;
    const Hh = h + <usize>b * hb, DH = dh + <usize>b * hb;
    let j = 0;
    for (; j < hv; j += 4) {
      const q = <usize>j << 2;
      bwdChannel(P + q, A + q, Hh + q, DH + q, D + q, steps, rowB, hRowB, hb, lstm, true);
    }
    for (; j < hidden; j++) {
      const q = <usize>j << 2;
      bwdChannel(P + q, A + q, Hh + q, DH + q, D + q, steps, rowB, hRowB, hb, lstm, false);
    }
  }
}
