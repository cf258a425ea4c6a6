// C (+)= op(A)·op(B), blocked GotoBLAS-style: for each NC-column block and KC-deep slice, pack
// B; for each MC-row block pack A; then every 8-column B panel meets every 4-row A panel in the
// register tile. Threads claim blocks of C from the command's work counter, and the per-element
// reduction order never depends on the blocking, the claims or the thread count.
import { tile4x8 } from './microkernel';
import { packA, packB } from './pack';
import { BLOCKS_PER_THREAD, blockOf, claim } from './kernel-layout';
import { MatmulFlag } from '../op-table';

// Block sizes (measured on Zen 5, 1 MiB L2): a KC×NC block of B is packed once per thread and
// swept by every MC-row block of A; a KC×8 B panel stays in L1 while the MC/4 A panels pass.
export const NC: i32 = 512;
export const KC: i32 = 256;
export const MC: i32 = 64;
/**
 * Packed MC×KC blocks of A a thread keeps, one per k slice (slice index modulo A_SLOTS): a wide
 * product's blocks of C all span the same rows, so with k up to A_SLOTS·KC each thread packs A
 * once, not once per block (measured: repacking a 32×1024 A for every 32-column block halved the
 * speed of the backward recurrent product).
 */
const A_SLOTS: i32 = 8;
const A_BYTES: i32 = MC * KC * 4;
/** An edge tile (4×8 floats) and its bias row (8 floats). */
const EDGE_BYTES: i32 = 128 + 32;
/** Scratch bytes each thread needs: a packed B block, the A slots, an edge tile, the A slots' tags. */
export const SCRATCH_BYTES: i32 = KC * NC * 4 + A_SLOTS * A_BYTES + EDGE_BYTES + A_SLOTS * 16;

const TRANS_A: i32 = MatmulFlag.TransA;
const TRANS_B: i32 = MatmulFlag.TransB;
const ACCUMULATE: i32 = MatmulFlag.Accumulate;
const PACKED: i32 = MatmulFlag.Packed;

/**
 * Packs all of op(B) (k×n) into dst as 8-column panels, each k×8 contiguous: the layout packB
 * gives one block, extended over the whole k, so any KC slice of a panel is a contiguous run.
 * Threads claim blocks of panels.
 */
export function packPanels(dst: usize, b: usize, k: i32, n: i32, flags: i32, nt: i32): void {
  const bPs: usize = (flags & TRANS_B) ? 4 : <usize>n << 2, bJs: usize = (flags & TRANS_B) ? <usize>k << 2 : 4;
  const tiles = (n + 7) >> 3, per = blockOf(tiles, nt, 1);
  for (let u = claim(); u * per < tiles; u = claim()) {
    const t0 = u * per, t1 = min(tiles, t0 + per);
    packB(dst + <usize>t0 * (<usize>k << 5), b + <usize>(t0 << 3) * bJs, bPs, bJs, k, min(n, t1 << 3) - (t0 << 3));
  }
}

/**
 * Rows of a block of C, at least, when B must be packed again for every block (k > KC): packing
 * a float costs several multiply-adds, and a block of r rows spends r multiply-adds per float of B.
 */
const REPACK_ROWS: i32 = 256;

// What this thread's scratch holds, so blocks that share a packed block of B (same columns, same
// k slice) or of A (same rows, same k slice) skip the packing: B's tag here (each thread has its
// own instance, hence its own globals), each A slot's (row, depth, height) after the edge tile.
// Reset at the start of every command.
let bCol = -1, bDepth = 0, bWidth = 0;

/**
 * `bias` (0: none) is a row of n floats that starts every element's sum, after C's own value when
 * accumulating: C = [C +] bias + op(A)·op(B), each product then added in p order as without it.
 */
export function matmul(c: usize, a: usize, b: usize, m: i32, n: i32, k: i32, flags: i32,
  scratch: usize, bias: usize, tid: i32, nt: i32): void {
  bCol = -1;
  const tags = scratch + <usize>(KC * NC * 4 + A_SLOTS * A_BYTES + EDGE_BYTES);
  for (let s = 0; s < A_SLOTS; s++) store<i32>(tags + (<usize>s << 4), -1);
  // Blocks of C: full-height column strips for wide products (each strip packs its own B
  // columns, A is shared), column blocks × row strips for tall ones (B packed once per column
  // block per thread unless k > KC forces a repack per block; then strips stay tall).
  const panels = (m + 3) >> 2, tiles = (n + 7) >> 3, want = nt > 1 ? nt * BLOCKS_PER_THREAD : 1;
  let bw = tiles, bh = panels;
  if (panels >= tiles) {
    bw = min(tiles, NC >> 3);
    const cb = (tiles + bw - 1) / bw;
    bh = (panels + max(1, want / cb) - 1) / max(1, want / cb);
    if (k > KC) bh = max(bh, min(panels, REPACK_ROWS >> 2));
    // ...but never fewer blocks than threads: a weight gradient (216 rows, k = 4096) was one
    // block, so one thread did it all.
    if (nt > 1) bh = min(bh, (panels + nt - 1) / nt);
  } else {
    bw = min(NC >> 3, (tiles + want - 1) / want);
  }
  const rowBlocks = (panels + bh - 1) / bh, blocks = rowBlocks * ((tiles + bw - 1) / bw);
  for (let u = claim(); u < blocks; u = claim()) {
    // Row blocks vary fastest, so a thread's consecutive claims tend to share a column block.
    const jb = u / rowBlocks, ib = u - jb * rowBlocks;
    const r0 = ib * bh << 2, r1 = min(m, (ib + 1) * bh << 2), c0 = jb * bw << 3, c1 = min(n, (jb + 1) * bw << 3);
    if (k <= 0) noProduct(c, n, flags, bias, r0, r1, c0, c1);
    else block(c, a, b, m, n, k, flags, scratch, bias, r0, r1, c0, c1);
  }
}

/** k = 0: C is the bias row broadcast (added to C when accumulating), or zeros, or left alone. */
function noProduct(c: usize, n: i32, flags: i32, bias: usize, r0: i32, r1: i32, c0: i32, c1: i32): void {
  const acc = (flags & ACCUMULATE) != 0;
  for (let i = r0; i < r1; i++) {
    const row = c + ((<usize>i * n + c0) << 2);
    if (bias) {
      for (let j = 0; j < c1 - c0; j++) {
        const q = <usize>j << 2, r = load<f32>(bias + (<usize>(c0 + j) << 2));
        store<f32>(row + q, acc ? load<f32>(row + q) + r : r);
      }
    } else if (!acc) {
      memory.fill(row, 0, <usize>(c1 - c0) << 2);
    }
  }
}

function block(c: usize, a: usize, b: usize, m: i32, n: i32, k: i32, flags: i32, scratch: usize, bias: usize,
  r0: i32, r1: i32, c0: i32, c1: i32): void {
  const bBuf = scratch, aBase = scratch + <usize>(KC * NC * 4), edge = aBase + <usize>(A_SLOTS * A_BYTES);
  const tags = edge + <usize>EDGE_BYTES;
  const cs = <usize>n << 2;
  // Byte strides of A's (row, p) and B's (p, col).
  const aRs: usize = (flags & TRANS_A) ? 4 : <usize>k << 2, aPs: usize = (flags & TRANS_A) ? <usize>m << 2 : 4;
  const bPs: usize = (flags & TRANS_B) ? 4 : <usize>n << 2, bJs: usize = (flags & TRANS_B) ? <usize>k << 2 : 4;
  const acc = (flags & ACCUMULATE) != 0, packed = (flags & PACKED) != 0;
  for (let jc = c0; jc < c1; jc += NC) {
    const nb = min(NC, c1 - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kb = min(KC, k - pc);
      const zero = !acc && pc == 0;
      const rowB: usize = pc == 0 ? bias : 0; // the bias joins in the first k slice only
      const panel = <usize>kb << 4, tileB = <usize>kb << 5;
      // A packed B panel is k×8 whole: this slice starts pc rows into it.
      const bBase = packed ? b + (<usize>(jc >> 3)) * (<usize>k << 5) + (<usize>pc << 5) : bBuf;
      const bStride = packed ? <usize>k << 5 : tileB;
      if (!packed && (jc != bCol || pc != bDepth || nb != bWidth)) {
        packB(bBuf, b + <usize>pc * bPs + <usize>jc * bJs, bPs, bJs, kb, nb);
        bCol = jc; bDepth = pc; bWidth = nb;
      }
      const slot = <usize>((pc / KC) & (A_SLOTS - 1));
      const aBuf = aBase + slot * <usize>A_BYTES, tag = tags + (slot << 4);
      for (let ic = r0; ic < r1; ic += MC) {
        const mb = min(MC, r1 - ic);
        if (ic != load<i32>(tag) || pc != load<i32>(tag, 4) || mb != load<i32>(tag, 8)) {
          for (let i = 0; i < mb; i += 4) {
            packA(aBuf + (<usize>(i >> 2)) * panel, a + <usize>(ic + i) * aRs + <usize>pc * aPs, aRs, aPs, min(4, mb - i), kb);
          }
          store<i32>(tag, ic); store<i32>(tag, pc, 4); store<i32>(tag, mb, 8);
        }
        for (let t = 0; t < nb; t += 8) {
          const cols = min(8, nb - t);
          const bp = bBase + (<usize>(t >> 3)) * bStride;
          const bt: usize = rowB ? rowB + (<usize>(jc + t) << 2) : 0;
          for (let i = 0; i < mb; i += 4) {
            const rows = min(4, mb - i);
            const ap = aBuf + (<usize>(i >> 2)) * panel;
            const cp = c + <usize>(ic + i) * cs + (<usize>(jc + t) << 2);
            if (rows == 4 && cols == 8) tile4x8(ap, bp, cp, cs, kb, zero, bt);
            else edgeTile(ap, bp, cp, cs, kb, zero, bt, rows, cols, edge);
          }
        }
      }
    }
  }
}

/**
 * A partial tile goes through a 4×8 buffer (its bias through an 8-float row after it), so the kernel
 * never touches memory outside C or the bias.
 */
function edgeTile(ap: usize, bp: usize, cp: usize, cs: usize, kb: i32, zero: bool, bias: usize, rows: i32, cols: i32,
  buf: usize): void {
  if (!zero) {
    for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) {
      store<f32>(buf + (<usize>(r * 8 + j) << 2), load<f32>(cp + <usize>r * cs + (<usize>j << 2)));
    }
  }
  let bt: usize = 0;
  if (bias) {
    bt = buf + 128;
    for (let j = 0; j < 8; j++) store<f32>(bt + (<usize>j << 2), j < cols ? load<f32>(bias + (<usize>j << 2)) : 0);
  }
  tile4x8(ap, bp, buf, 32, kb, zero, bt);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) {
    store<f32>(cp + <usize>r * cs + (<usize>j << 2), load<f32>(buf + (<usize>(r * 8 + j) << 2)));
  }
}
