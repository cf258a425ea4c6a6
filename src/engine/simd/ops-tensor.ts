// Data movement, elementwise arithmetic, reductions and the matrix product. Arguments arrive
// checked (../op-layer.ts); each wrapper fills its command's slots (op-table.ts) and runs it.
import type {
  BinaryArgs, BroadcastRowArgs, CopyArgs, EmbeddingArgs, EmbeddingBackwardArgs, MatmulArgs, SumRowsArgs, ZeroArgs,
} from '../engine-api.js';
import type { Checked } from '../op-layer.js';
import { type Ctx, PAR_FLOATS, PAR_FLOPS } from './context.js';
import {
  BinaryArg, BroadcastRowArg, CopyArg, EmbeddingArg, EmbeddingBackwardArg, MatmulArg, MatmulFlag, Op, PackPanelsArg, SumRowsArg, ZeroArg,
} from './op-table.js';

export function zero(cx: Ctx, z: Checked<ZeroArgs>): void {
  const a = cx.args();
  a[ZeroArg.Out] = cx.ptr(z.out, z.outOff); a[ZeroArg.Len] = z.len;
  cx.exec(Op.Zero, z.len, PAR_FLOATS);
}

export function copy(cx: Ctx, c: Checked<CopyArgs>): void {
  const a = cx.args();
  a[CopyArg.Dst] = cx.ptr(c.dst, c.dstOff); a[CopyArg.Src] = cx.ptr(c.src, c.srcOff); a[CopyArg.Len] = c.len;
  cx.exec(Op.Copy, c.len, PAR_FLOATS);
}

/** out = a ∘ b for the binary elementwise ops (mul, add). */
export function binary(cx: Ctx, op: Op, b: Checked<BinaryArgs>): void {
  const a = cx.args();
  a[BinaryArg.Out] = cx.ptr(b.out, b.outOff); a[BinaryArg.A] = cx.ptr(b.a, b.aOff); a[BinaryArg.B] = cx.ptr(b.b, b.bOff);
  a[BinaryArg.Len] = b.len;
  cx.exec(op, b.len, PAR_FLOATS);
}

export function broadcastRow(cx: Ctx, r: Checked<BroadcastRowArgs>): void {
  const a = cx.args();
  a[BroadcastRowArg.Out] = cx.ptr(r.out, r.outOff); a[BroadcastRowArg.Row] = cx.ptr(r.row, r.rowOff);
  a[BroadcastRowArg.Rows] = r.rows; a[BroadcastRowArg.Cols] = r.cols;
  cx.exec(Op.BroadcastRow, r.rows * r.cols, PAR_FLOATS);
}

export function sumRows(cx: Ctx, s: Checked<SumRowsArgs>): void {
  const a = cx.args();
  a[SumRowsArg.Out] = cx.ptr(s.out, s.outOff); a[SumRowsArg.X] = cx.ptr(s.x, s.xOff);
  a[SumRowsArg.Rows] = s.rows; a[SumRowsArg.Cols] = s.cols; a[SumRowsArg.Accumulate] = s.accumulate ? 1 : 0;
  cx.exec(Op.SumRows, s.cols >= 16 ? s.rows * s.cols : 0, PAR_FLOATS);
}

export function matmul(cx: Ctx, m: Checked<MatmulArgs>, scratch: number): void {
  let b = cx.ptr(m.b, m.bOff);
  let flags = (m.transA ? MatmulFlag.TransA : 0) | (m.transB ? MatmulFlag.TransB : 0) | (m.accumulate ? MatmulFlag.Accumulate : 0);
  if (m.bCache && m.k > 0 && m.n > 0) {
    b = packed(cx, b, m.k, m.n, !!m.transB, m.bCache);
    flags |= MatmulFlag.Packed;
  }
  const a = cx.args();
  a[MatmulArg.C] = cx.ptr(m.c, m.cOff); a[MatmulArg.A] = cx.ptr(m.a, m.aOff); a[MatmulArg.B] = b;
  a[MatmulArg.M] = m.m; a[MatmulArg.N] = m.n; a[MatmulArg.K] = m.k;
  a[MatmulArg.Flags] = flags;
  a[MatmulArg.Scratch] = scratch;
  a[MatmulArg.Bias] = m.bias ? cx.ptr(m.bias, m.biasOff) : 0;
  cx.exec(Op.Matmul, 2 * m.m * m.n * m.k, PAR_FLOPS);
}

/**
 * The address of B packed whole (assembly/matmul.ts packPanels), packed now unless the caller
 * promised it is unchanged since the last 'store': a weight multiplied at every timestep is then
 * packed once per sequence instead of once per product.
 */
function packed(cx: Ctx, b: number, k: number, n: number, transB: boolean, mode: 'store' | 'reuse'): number {
  // A number key: this runs for every per-timestep product, and a string key allocated each time.
  const key = b * 2 + (transB ? 1 : 0);
  let entry = cx.packs.get(key);
  const same = entry !== undefined && entry.k === k && entry.n === n;
  if (same && mode === 'reuse') return entry!.ptr;
  if (!same) {
    // A new shape on the same B reuses the old copy's room when it fits.
    const bytes = Math.ceil(n / 8) * 8 * k * 4;
    if (entry && entry.bytes < bytes) cx.arena.free(entry.ptr, entry.bytes);
    entry = entry && entry.bytes >= bytes ? { ...entry, k, n } : { ptr: cx.arena.alloc(bytes), k, n, bytes };
    cx.packs.set(key, entry);
  }
  const p = entry!.ptr;
  const a = cx.args();
  a[PackPanelsArg.Dst] = p; a[PackPanelsArg.B] = b; a[PackPanelsArg.K] = k; a[PackPanelsArg.N] = n;
  a[PackPanelsArg.Flags] = transB ? MatmulFlag.TransB : 0;
  cx.exec(Op.PackPanels, k * n, PAR_FLOATS);
  return p;
}

/** The layer has checked every id against the table's rows: the kernel indexes memory with them. */
export function embedding(cx: Ctx, e: Checked<EmbeddingArgs>): void {
  const a = cx.args();
  a[EmbeddingArg.Out] = cx.ptr(e.out, e.outOff); a[EmbeddingArg.Table] = cx.ptr(e.table, e.tableOff);
  a[EmbeddingArg.Ids] = cx.ptr(e.ids, e.idsOff); a[EmbeddingArg.N] = e.n; a[EmbeddingArg.Dim] = e.dim;
  cx.exec(Op.Embedding, e.n * e.dim, PAR_FLOATS);
}

export function embeddingBackward(cx: Ctx, e: Checked<EmbeddingBackwardArgs>): void {
  const a = cx.args();
  a[EmbeddingBackwardArg.DTable] = cx.ptr(e.dTable, e.dTableOff); a[EmbeddingBackwardArg.DOut] = cx.ptr(e.dOut, e.dOutOff);
  a[EmbeddingBackwardArg.Ids] = cx.ptr(e.ids, e.idsOff);
  a[EmbeddingBackwardArg.N] = e.n; a[EmbeddingBackwardArg.Dim] = e.dim; a[EmbeddingBackwardArg.Vocab] = e.vocab;
  // Every thread scans all ids, so splitting only pays for wide rows and enough distinct rows.
  cx.exec(Op.EmbeddingBackward, e.vocab >= 4 ? e.n * e.dim : 0, 2 * PAR_FLOATS);
}
