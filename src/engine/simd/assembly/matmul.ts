// C (+)= op(A)·op(B), blocked GotoBLAS-style: per thread, for each NC-column block and KC-deep
// slice, pack B once; for each MC-row block pack A; then every 8-column B panel meets every 4-row
// A panel in the register tile. Threads own disjoint blocks of C (rows or columns), and the
// per-element reduction order never depends on the blocking or the split.
import { tile4x8 } from './microkernel';
import { packA, packB } from './pack';
import { share } from './layout';
import { MatmulFlag } from '../op-table';

// Block sizes (measured on Zen 5, 1 MiB L2): a KC×NC block of B is packed once per thread and
// swept by every MC-row block of A; a KC×8 B panel stays in L1 while the MC/4 A panels pass.
export const NC: i32 = 512;
export const KC: i32 = 256;
export const MC: i32 = 64;
/** Scratch bytes each thread needs: a packed B block, a packed A block, an edge tile. */
export const SCRATCH_BYTES: i32 = KC * NC * 4 + MC * KC * 4 + 128;

const TRANS_A: i32 = MatmulFlag.TransA;
const TRANS_B: i32 = MatmulFlag.TransB;
const ACCUMULATE: i32 = MatmulFlag.Accumulate;
const PACKED: i32 = MatmulFlag.Packed;

/**
 * Packs all of op(B) (k×n) into dst as 8-column panels, each k×8 contiguous: the layout packB
 * gives one block, extended over the whole k, so any KC slice of a panel is a contiguous run.
 * Threads take disjoint panels.
 */
export function packPanels(dst: usize, b: usize, k: i32, n: i32, flags: i32, tid: i32, nt: i32): void {
  const bPs: usize = (flags & TRANS_B) ? 4 : <usize>n << 2, bJs: usize = (flags & TRANS_B) ? <usize>k << 2 : 4;
  const tiles = (n + 7) >> 3, t0 = share(tiles, tid, nt), t1 = share(tiles, tid + 1, nt);
  if (t0 >= t1) return;
  packB(dst + <usize>t0 * (<usize>k << 5), b + <usize>(t0 << 3) * bJs, bPs, bJs, k, min(n, t1 << 3) - (t0 << 3));
}

export function matmul(c: usize, a: usize, b: usize, m: i32, n: i32, k: i32, flags: i32,
  scratch: usize, tid: i32, nt: i32): void {
  // Split the dimension with more work units (4-row panels vs 8-column tiles).
  const panels = (m + 3) >> 2, tiles = (n + 7) >> 3;
  let r0 = 0, r1 = m, c0 = 0, c1 = n;
  if (panels >= tiles) {
    r0 = share(panels, tid, nt) << 2; r1 = min(m, share(panels, tid + 1, nt) << 2);
  } else {
    c0 = share(tiles, tid, nt) << 3; c1 = min(n, share(tiles, tid + 1, nt) << 3);
  }
  if (r0 >= r1 || c0 >= c1) return;
  if (k <= 0) {
    if ((flags & ACCUMULATE) == 0) for (let i = r0; i < r1; i++) memory.fill(c + ((<usize>i * n + c0) << 2), 0, <usize>(c1 - c0) << 2);
    return;
  }
  block(c, a, b, m, n, k, flags, scratch, r0, r1, c0, c1);
}

function block(c: usize, a: usize, b: usize, m: i32, n: i32, k: i32, flags: i32, scratch: usize,
  r0: i32, r1: i32, c0: i32, c1: i32): void {
  const bBuf = scratch, aBuf = scratch + <usize>(KC * NC * 4), edge = aBuf + <usize>(KC * MC * 4);
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
      const panel = <usize>kb << 4, tileB = <usize>kb << 5;
      // A packed B panel is k×8 whole: this slice starts pc rows into it.
      const bBase = packed ? b + (<usize>(jc >> 3)) * (<usize>k << 5) + (<usize>pc << 5) : bBuf;
      const bStride = packed ? <usize>k << 5 : tileB;
      if (!packed) packB(bBuf, b + <usize>pc * bPs + <usize>jc * bJs, bPs, bJs, kb, nb);
      for (let ic = r0; ic < r1; ic += MC) {
        const mb = min(MC, r1 - ic);
        for (let i = 0; i < mb; i += 4) {
          packA(aBuf + (<usize>(i >> 2)) * panel, a + <usize>(ic + i) * aRs + <usize>pc * aPs, aRs, aPs, min(4, mb - i), kb);
        }
        for (let t = 0; t < nb; t += 8) {
          const cols = min(8, nb - t);
          const bp = bBase + (<usize>(t >> 3)) * bStride;
          for (let i = 0; i < mb; i += 4) {
            const rows = min(4, mb - i);
            const ap = aBuf + (<usize>(i >> 2)) * panel;
            const cp = c + <usize>(ic + i) * cs + (<usize>(jc + t) << 2);
            if (rows == 4 && cols == 8) tile4x8(ap, bp, cp, cs, kb, zero);
            else edgeTile(ap, bp, cp, cs, kb, zero, rows, cols, edge);
          }
        }
      }
    }
  }
}

/** A partial tile goes through a 4×8 buffer so the kernel never touches memory outside C. */
function edgeTile(ap: usize, bp: usize, cp: usize, cs: usize, kb: i32, zero: bool, rows: i32, cols: i32, buf: usize): void {
  if (!zero) {
    for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) {
      store<f32>(buf + (<usize>(r * 8 + j) << 2), load<f32>(cp + <usize>r * cs + (<usize>j << 2)));
    }
  }
  tile4x8(ap, bp, buf, 32, kb, zero);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) {
    store<f32>(cp + <usize>r * cs + (<usize>j << 2), load<f32>(buf + (<usize>(r * 8 + j) << 2)));
  }
}
