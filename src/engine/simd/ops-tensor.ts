// Data movement, elementwise arithmetic, reductions and the matrix product.
import type { MatmulArgs, Tensor } from '../engine.js';
import { type Ctx, PAR_FLOATS, PAR_FLOPS } from './context.js';
import { ACCUMULATE, Op, PACKED, TRANS_A, TRANS_B } from './layout.js';
import { checkCount } from './tensor.js';

export function zero(cx: Ctx, t: Tensor, off = 0, len?: number): void {
  const n = len ?? t.size - off;
  const a = cx.args();
  a[0] = cx.at(t, off, n, 'zero target'); a[1] = n;
  cx.exec(Op.Zero, n, PAR_FLOATS);
}

export function copy(cx: Ctx, dst: Tensor, dstOff: number, src: Tensor, srcOff: number, len: number): void {
  const a = cx.args();
  a[0] = cx.at(dst, dstOff, len, 'copy dst'); a[1] = cx.at(src, srcOff, len, 'copy src'); a[2] = len;
  cx.exec(Op.Copy, len, PAR_FLOATS);
}

/** out = a ∘ b for the binary elementwise ops (mul, add). */
export function binary(cx: Ctx, op: Op, name: string, out: Tensor, outOff: number, x: Tensor, xOff: number,
  y: Tensor, yOff: number, len: number): void {
  const a = cx.args();
  a[0] = cx.at(out, outOff, len, `${name} out`); a[1] = cx.at(x, xOff, len, `${name} a`); a[2] = cx.at(y, yOff, len, `${name} b`);
  a[3] = len;
  cx.exec(op, len, PAR_FLOATS);
}

export function broadcastRow(cx: Ctx, out: Tensor, outOff: number, row: Tensor, rowOff: number, rows: number, cols: number): void {
  checkCount(rows, 'rows'); checkCount(cols, 'cols');
  const a = cx.args();
  a[0] = cx.at(out, outOff, rows * cols, 'broadcastRow out'); a[1] = cx.at(row, rowOff, cols, 'broadcastRow row');
  a[2] = rows; a[3] = cols;
  cx.exec(Op.BroadcastRow, rows * cols, PAR_FLOATS);
}

export function sumRows(cx: Ctx, out: Tensor, outOff: number, x: Tensor, xOff: number, rows: number, cols: number, accumulate: boolean): void {
  checkCount(rows, 'rows'); checkCount(cols, 'cols');
  const a = cx.args();
  a[0] = cx.at(out, outOff, cols, 'sumRows out'); a[1] = cx.at(x, xOff, rows * cols, 'sumRows x');
  a[2] = rows; a[3] = cols; a[4] = accumulate ? 1 : 0;
  cx.exec(Op.SumRows, cols >= 16 ? rows * cols : 0, PAR_FLOATS);
}

export function matmul(cx: Ctx, m: MatmulArgs, scratch: number): void {
  checkCount(m.m, 'm'); checkCount(m.n, 'n'); checkCount(m.k, 'k');
  const c = cx.at(m.c, m.cOff, m.m * m.n, 'matmul C'), A = cx.at(m.a, m.aOff, m.m * m.k, 'matmul A');
  let b = cx.at(m.b, m.bOff, m.k * m.n, 'matmul B');
  let flags = (m.transA ? TRANS_A : 0) | (m.transB ? TRANS_B : 0) | (m.accumulate ? ACCUMULATE : 0);
  if (m.bCache && m.k > 0 && m.n > 0) {
    b = packed(cx, b, m.k, m.n, !!m.transB, m.bCache);
    flags |= PACKED;
  }
  const a = cx.args();
  a[0] = c; a[1] = A; a[2] = b;
  a[3] = m.m; a[4] = m.n; a[5] = m.k; a[6] = flags; a[7] = scratch;
  cx.exec(Op.Matmul, 2 * m.m * m.n * m.k, PAR_FLOPS);
}

/**
 * The address of B packed whole (assembly/matmul.ts packPanels), packed now unless the caller
 * promised it is unchanged since the last 'store': a weight multiplied at every timestep is then
 * packed once per sequence instead of once per product.
 */
function packed(cx: Ctx, b: number, k: number, n: number, transB: boolean, mode: 'store' | 'reuse'): number {
  const key = `${b}:${k}:${n}:${transB ? 1 : 0}`;
  let p = cx.packs.get(key);
  if (p !== undefined && mode === 'reuse') return p;
  if (p === undefined) {
    p = cx.arena.alloc(Math.ceil(n / 8) * 8 * k * 4);
    cx.packs.set(key, p);
  }
  const a = cx.args();
  a[0] = p; a[1] = b; a[2] = k; a[3] = n; a[4] = transB ? TRANS_B : 0;
  cx.exec(Op.PackPanels, k * n, PAR_FLOATS);
  return p;
}

export function embedding(cx: Ctx, out: Tensor, outOff: number, table: Tensor, tableOff: number, ids: Tensor, idsOff: number,
  n: number, dim: number): void {
  checkCount(n, 'n'); checkCount(dim, 'dim');
  const idp = cx.at(ids, idsOff, n, 'embedding ids');
  const rows = dim > 0 ? Math.floor((table.size - tableOff) / dim) : 0;
  cx.ids(idp, n, rows, 'embedding ids');
  const a = cx.args();
  a[0] = cx.at(out, outOff, n * dim, 'embedding out'); a[1] = cx.at(table, tableOff, rows * dim, 'embedding table');
  a[2] = idp; a[3] = n; a[4] = dim;
  cx.exec(Op.Embedding, n * dim, PAR_FLOATS);
}

export function embeddingBackward(cx: Ctx, dTable: Tensor, dTableOff: number, dOut: Tensor, dOutOff: number, ids: Tensor,
  idsOff: number, n: number, dim: number, vocab: number): void {
  checkCount(n, 'n'); checkCount(dim, 'dim'); checkCount(vocab, 'vocab');
  const idp = cx.at(ids, idsOff, n, 'embeddingBackward ids');
  cx.ids(idp, n, vocab, 'embeddingBackward ids');
  const a = cx.args();
  a[0] = cx.at(dTable, dTableOff, vocab * dim, 'embeddingBackward dTable');
  a[1] = cx.at(dOut, dOutOff, n * dim, 'embeddingBackward dOut');
  a[2] = idp; a[3] = n; a[4] = dim; a[5] = vocab;
  // Every thread scans all ids, so splitting only pays for wide rows and enough distinct rows.
  cx.exec(Op.EmbeddingBackward, vocab >= 4 ? n * dim : 0, 2 * PAR_FLOATS);
}
