// LSTM cell pointwise math for one timestep, rows split across threads. Gate order [i|f|g|o].
import { blockOf, claim } from './kernel-layout';
import { ld, st } from './lanes';
import { vsigmoid, vtanh } from './vmath';

@inline function fwd(pre: usize, act: usize, cp: usize, c: usize, h: usize, hb: usize, w: bool): void {
  const i = vsigmoid(ld(pre, w)), f = vsigmoid(ld(pre + hb, w));
  const g = vtanh(ld(pre + 2 * hb, w)), o = vsigmoid(ld(pre + 3 * hb, w));
  st(act, i, w); st(act + hb, f, w); st(act + 2 * hb, g, w); st(act + 3 * hb, o, w);
  const cn = f32x4.add(f32x4.mul(f, ld(cp, w)), f32x4.mul(i, g));
  st(c, cn, w);
  st(h, f32x4.mul(o, vtanh(cn)), w);
}

export function lstmForward(pre: usize, act: usize, cPrev: usize, c: usize, h: usize, batch: i32, hidden: i32,
  tid: i32, nt: i32): void {
  const hb = <usize>hidden << 2, gb = hb << 2, hv = hidden & ~3;
  const bs = blockOf(batch, nt, 1);
  for (let r0 = claim() * bs; r0 < batch; r0 = claim() * bs) for (let r = r0, e = min(batch, r0 + bs); r < e; r++) {
    const P = pre + <usize>r * gb, A = act + <usize>r * gb;
    const CP = cPrev + <usize>r * hb, C = c + <usize>r * hb, H = h + <usize>r * hb;
    let j = 0;
    for (; j < hv; j += 4) {
      const q = <usize>j << 2;
      fwd(P + q, A + q, CP + q, C + q, H + q, hb, true);
    }
    for (; j < hidden; j++) {
      const q = <usize>j << 2;
      fwd(P + q, A + q, CP + q, C + q, H + q, hb, false);
    }
  }
}

@inline function bwd(act: usize, cp: usize, c: usize, dh: usize, dcn: usize, dpre: usize, dcp: usize,
  hb: usize, w: bool): void {
  const one = f32x4.splat(1);
  const i = ld(act, w), f = ld(act + hb, w), g = ld(act + 2 * hb, w), o = ld(act + 3 * hb, w);
  const tc = vtanh(ld(c, w)), dH = ld(dh, w);
  const dO = f32x4.mul(dH, tc);
  const dc = f32x4.add(ld(dcn, w), f32x4.mul(f32x4.mul(dH, o), f32x4.sub(one, f32x4.mul(tc, tc))));
  const dI = f32x4.mul(dc, g), dG = f32x4.mul(dc, i), dF = f32x4.mul(dc, ld(cp, w));
  st(dcp, f32x4.mul(dc, f), w);
  st(dpre, f32x4.mul(f32x4.mul(dI, i), f32x4.sub(one, i)), w);
  st(dpre + hb, f32x4.mul(f32x4.mul(dF, f), f32x4.sub(one, f)), w);
  st(dpre + 2 * hb, f32x4.mul(dG, f32x4.sub(one, f32x4.mul(g, g))), w);
  st(dpre + 3 * hb, f32x4.mul(f32x4.mul(dO, o), f32x4.sub(one, o)), w);
}

export function lstmBackward(act: usize, cPrev: usize, c: usize, dh: usize, dcNext: usize, dPre: usize, dcPrev: usize,
  batch: i32, hidden: i32, tid: i32, nt: i32): void {
  const hb = <usize>hidden << 2, gb = hb << 2, hv = hidden & ~3;
  const bs = blockOf(batch, nt, 1);
  for (let r0 = claim() * bs; r0 < batch; r0 = claim() * bs) for (let r = r0, e = min(batch, r0 + bs); r < e; r++) {
    const A = act + <usize>r * gb, DP = dPre + <usize>r * gb, o = <usize>r * hb;
    let j = 0;
    for (; j < hv; j += 4) {
      const q = <usize>j << 2;
      bwd(A + q, cPrev + o + q, c + o + q, dh + o + q, dcNext + o + q, DP + q, dcPrev + o + q, hb, true);
    }
    for (; j < hidden; j++) {
      const q = <usize>j << 2;
      bwd(A + q, cPrev + o + q, c + o + q, dh + o + q, dcNext + o + q, DP + q, dcPrev + o + q, hb, false);
    }
  }
}
