// Packing into the layouts the 4×8 tile streams: A panels [p][4 rows], B panels [p][8 cols],
// zero-padded past the matrix edge so edge tiles need no special kernel.

@inline function transpose4(dst: usize, r0: v128, r1: v128, r2: v128, r3: v128, ds: usize): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + ds, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * ds, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * ds, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

/**
 * Packs `rows` (≤ 4) rows × kb of A into dst as [p][4]. Element (r, p) is at
 * src + r*rs + p*ps (bytes); ps == 4 means rows are contiguous (A not transposed).
 */
export function packA(dst: usize, src: usize, rs: usize, ps: usize, rows: i32, kb: i32): void {
  const z = f32x4.splat(0);
  if (ps == 4 && rows == 4) {
    let p = 0;
    for (; p + 4 <= kb; p += 4) {
      const o = <usize>p << 2;
      transpose4(dst + (<usize>p << 4), v128.load(src + o), v128.load(src + rs + o),
        v128.load(src + 2 * rs + o), v128.load(src + 3 * rs + o), 16);
    }
    for (; p < kb; p++) {
      const o = <usize>p << 2, d = dst + (<usize>p << 4);
      store<f32>(d, load<f32>(src + o)); store<f32>(d, load<f32>(src + rs + o), 4);
      store<f32>(d, load<f32>(src + 2 * rs + o), 8); store<f32>(d, load<f32>(src + 3 * rs + o), 12);
    }
  } else if (rs == 4 && rows == 4) {
    for (let p = 0; p < kb; p++) v128.store(dst + (<usize>p << 4), v128.load(src + <usize>p * ps));
  } else {
    for (let p = 0; p < kb; p++) {
      const d = dst + (<usize>p << 4), s = src + <usize>p * ps;
      v128.store(d, z);
      for (let r = 0; r < rows; r++) store<f32>(d + (<usize>r << 2), load<f32>(s + <usize>r * rs));
    }
  }
}

/**
 * Packs kb × nb of B into dst as consecutive [p][8] panels (nb rounded up to 8, zero-filled).
 * Element (p, j) is at src + p*ps + j*js; js == 4 means B rows are contiguous (not transposed).
 */
export function packB(dst: usize, src: usize, ps: usize, js: usize, kb: i32, nb: i32): void {
  const z = f32x4.splat(0);
  const panel = <usize>kb << 5;
  for (let t = 0; t < nb; t += 8) {
    const cols = min(8, nb - t);
    const s0 = src + <usize>t * js;
    const d0 = dst + (<usize>(t >> 3)) * panel;
    if (js == 4 && cols == 8) {
      for (let p = 0; p < kb; p++) {
        const s = s0 + <usize>p * ps, d = d0 + (<usize>p << 5);
        v128.store(d, v128.load(s)); v128.store(d, v128.load(s, 16), 16);
      }
    } else if (ps == 4 && cols == 8) {
      let p = 0;
      for (; p + 4 <= kb; p += 4) {
        const s = s0 + (<usize>p << 2), d = d0 + (<usize>p << 5);
        transpose4(d, v128.load(s), v128.load(s + js), v128.load(s + 2 * js), v128.load(s + 3 * js), 32);
        const s4 = s + 4 * js;
        transpose4(d + 16, v128.load(s4), v128.load(s4 + js), v128.load(s4 + 2 * js), v128.load(s4 + 3 * js), 32);
      }
      for (; p < kb; p++) {
        const s = s0 + (<usize>p << 2), d = d0 + (<usize>p << 5);
        for (let c = 0; c < 8; c++) store<f32>(d + (<usize>c << 2), load<f32>(s + <usize>c * js));
      }
    } else {
      for (let p = 0; p < kb; p++) {
        const s = s0 + <usize>p * ps, d = d0 + (<usize>p << 5);
        v128.store(d, z); v128.store(d, z, 16);
        for (let c = 0; c < cols; c++) store<f32>(d + (<usize>c << 2), load<f32>(s + <usize>c * js));
      }
    }
  }
}
