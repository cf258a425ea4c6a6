// GRU cell pointwise math for one timestep, rows split across threads. Gate order [r|z|n].
import { blockOf, claim } from './kernel-layout';
import { ld, st } from './lanes';
import { vsigmoid, vtanh } from './vmath';

@inline function fwd(gx: usize, gh: usize, hp: usize, act: usize, h: usize, hb: usize, w: bool): void {
  const r = vsigmoid(f32x4.add(ld(gx, w), ld(gh, w)));
  const z = vsigmoid(f32x4.add(ld(gx + hb, w), ld(gh + hb, w)));
  const n = vtanh(f32x4.add(ld(gx + 2 * hb, w), f32x4.mul(r, ld(gh + 2 * hb, w))));
  st(act, r, w); st(act + hb, z, w); st(act + 2 * hb, n, w);
  st(h, f32x4.add(f32x4.mul(f32x4.sub(f32x4.splat(1), z), n), f32x4.mul(z, ld(hp, w))), w);
}

export function gruForward(gx: usize, gh: usize, hPrev: usize, act: usize, h: usize, batch: i32, hidden: i32,
  tid: i32, nt: i32): void {
  const hb = <usize>hidden << 2, gb = hb * 3, hv = hidden & ~3;
  const bs = blockOf(batch, nt, 1);
  for (let b0 = claim() * bs; b0 < batch; b0 = claim() * bs) for (let b = b0, e = min(batch, b0 + bs); b < e; b++) {
    const G = <usize>b * gb, S = <usize>b * hb;
    let j = 0;
    for (; j < hv; j += 4) {
      const q = <usize>j << 2;
      fwd(gx + G + q, gh + G + q, hPrev + S + q, act + G + q, h + S + q, hb, true);
    }
    for (; j < hidden; j++) {
      const q = <usize>j << 2;
      fwd(gx + G + q, gh + G + q, hPrev + S + q, act + G + q, h + S + q, hb, false);
    }
  }
}

@inline function bwd(act: usize, gh: usize, hp: usize, dh: usize, dgx: usize, dgh: usize, dhp: usize, hb: usize, w: bool): void {
  const one = f32x4.splat(1);
  const r = ld(act, w), z = ld(act + hb, w), n = ld(act + 2 * hb, w);
  const g = ld(dh, w);
  const dn = f32x4.mul(f32x4.mul(g, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
  const dz = f32x4.mul(f32x4.mul(f32x4.mul(g, f32x4.sub(ld(hp, w), n)), z), f32x4.sub(one, z));
  const dr = f32x4.mul(f32x4.mul(f32x4.mul(dn, ld(gh + 2 * hb, w)), r), f32x4.sub(one, r));
  st(dgx, dr, w); st(dgx + hb, dz, w); st(dgx + 2 * hb, dn, w);
  st(dgh, dr, w); st(dgh + hb, dz, w); st(dgh + 2 * hb, f32x4.mul(dn, r), w);
  st(dhp, f32x4.add(ld(dhp, w), f32x4.mul(g, z)), w);
}

export function gruBackward(act: usize, gh: usize, hPrev: usize, dh: usize, dGx: usize, dGh: usize, dhPrev: usize,
  batch: i32, hidden: i32, tid: i32, nt: i32): void {
  const hb = <usize>hidden << 2, gb = hb * 3, hv = hidden & ~3;
  const bs = blockOf(batch, nt, 1);
  for (let b0 = claim() * bs; b0 < batch; b0 = claim() * bs) for (let b = b0, e = min(batch, b0 + bs); b < e; b++) {
    const G = <usize>b * gb, S = <usize>b * hb;
    let j = 0;
    for (; j < hv; j += 4) {
      const q = <usize>j << 2;
      bwd(act + G + q, gh + G + q, hPrev + S + q, dh + S + q, dGx + G + q, dGh + G + q, dhPrev + S + q, hb, true);
    }
    for (; j < hidden; j++) {
      const q = <usize>j << 2;
      bwd(act + G + q, gh + G + q, hPrev + S + q, dh + S + q, dGx + G + q, dGh + G + q, dhPrev + S + q, hb, false);
    }
  }
}
