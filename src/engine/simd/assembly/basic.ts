// Data movement and reductions over rows: zero, copy, broadcastRow, sumRows, embedding.
import { claim, blockOf, flatBlock } from './kernel-layout';

export function zero(p: usize, len: i32, tid: i32, nt: i32): void {
  const bs = flatBlock(len, nt);
  for (let lo = claim() * bs; lo < len; lo = claim() * bs) {
    memory.fill(p + (<usize>lo << 2), 0, <usize>(min(len, lo + bs) - lo) << 2);
  }
}

export function copy(dst: usize, src: usize, len: i32, tid: i32, nt: i32): void {
  const bs = flatBlock(len, nt);
  for (let lo = claim() * bs; lo < len; lo = claim() * bs) {
    memory.copy(dst + (<usize>lo << 2), src + (<usize>lo << 2), <usize>(min(len, lo + bs) - lo) << 2);
  }
}

export function broadcastRow(out: usize, row: usize, rows: i32, cols: i32, tid: i32, nt: i32): void {
  const bytes = <usize>cols << 2, bs = blockOf(rows, nt, 1);
  for (let r0 = claim() * bs; r0 < rows; r0 = claim() * bs) {
    for (let r = r0, e = min(rows, r0 + bs); r < e; r++) memory.copy(out + <usize>r * bytes, row, bytes);
  }
}

/** Each column is summed over rows in row order, so threads claim blocks of columns, never rows. */
export function sumRows(out: usize, x: usize, rows: i32, cols: i32, acc: bool, tid: i32, nt: i32): void {
  const quads = (cols + 3) >> 2, bs = blockOf(quads, nt, 1);
  for (let q0 = claim() * bs; q0 < quads; q0 = claim() * bs) {
    sumColumns(out, x, rows, cols, acc, q0 << 2, min(cols, (q0 + bs) << 2));
  }
}

function sumColumns(out: usize, x: usize, rows: i32, cols: i32, acc: bool, c0: i32, c1: i32): void {
  const rs = <usize>cols << 2;
  const o = out + (<usize>c0 << 2), xs = x + (<usize>c0 << 2);
  const w = c1 - c0, wv = w & ~3;
  if (!acc) memory.fill(o, 0, <usize>w << 2);
  for (let r = 0; r < rows; r++) {
    const xr = xs + <usize>r * rs;
    let j = 0;
    for (; j < wv; j += 4) {
      const q = <usize>j << 2;
      v128.store(o + q, f32x4.add(v128.load(o + q), v128.load(xr + q)));
    }
    for (; j < w; j++) {
      const q = <usize>j << 2;
      store<f32>(o + q, load<f32>(o + q) + load<f32>(xr + q));
    }
  }
}

export function embedding(out: usize, table: usize, ids: usize, n: i32, dim: i32, tid: i32, nt: i32): void {
  const bytes = <usize>dim << 2, bs = blockOf(n, nt, 1);
  for (let i0 = claim() * bs; i0 < n; i0 = claim() * bs) {
    for (let i = i0, e = min(n, i0 + bs); i < e; i++) {
      const id = <usize><u32><i32>load<f32>(ids + (<usize>i << 2));
      memory.copy(out + <usize>i * bytes, table + id * bytes, bytes);
    }
  }
}

/** Threads claim disjoint blocks of table rows and scan all ids, so colliding ids never race. */
export function embeddingBackward(dTable: usize, dOut: usize, ids: usize, n: i32, dim: i32, vocab: i32,
  tid: i32, nt: i32): void {
  const bs = blockOf(vocab, nt, 1);
  for (let v0 = claim() * bs; v0 < vocab; v0 = claim() * bs) rowsBackward(dTable, dOut, ids, n, dim, v0, min(vocab, v0 + bs));
}

function rowsBackward(dTable: usize, dOut: usize, ids: usize, n: i32, dim: i32, v0: i32, v1: i32): void {
  const bytes = <usize>dim << 2, dv = dim & ~3;
  for (let i = 0; i < n; i++) {
    const id = <i32>load<f32>(ids + (<usize>i << 2));
    if (id < v0 || id >= v1) continue;
    const d = dTable + <usize>id * bytes, s = dOut + <usize>i * bytes;
    let j = 0;
    for (; j < dv; j += 4) {
      const q = <usize>j << 2;
      v128.store(d + q, f32x4.add(v128.load(d + q), v128.load(s + q)));
    }
    for (; j < dim; j++) {
      const q = <usize>j << 2;
      store<f32>(d + q, load<f32>(d + q) + load<f32>(s + q));
    }
  }
}
