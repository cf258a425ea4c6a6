// The minimal cells' linear recurrence as a parallel prefix scan (Hillis–Steele, radix 4): each
// timestep is the affine map h ↦ a·h + b, maps compose associatively, and pass k makes element t
// the composition of the 4^(k+1) maps ending at t. ⌈log₄ T⌉ passes forward, as many backward,
// instead of one launch per timestep; each pass does O(T·B·H) work (4 terms per element), the
// same total as radix 2 in half the launches. Same conventions as kernels.ts.
//
// Constants: h (hidden), kh (act row length), bs (batch), bh (batch·hidden), tbh (steps·bh),
// steps. Pairs live region-major in an intermediate [A (tbh) | B (tbh)], element (t, b, u) at
// t·bh + b·h + u. The stride d is an argument, so one compiled kernel serves every pass.
import type { KernelSource } from './kernels.js';
import type { ScanCell } from './kernels-cells.js';

const C = 'this.constants.';

export type ScanDirection = 'forward' | 'backward';
/** Where a pass reads its pairs: the activations (the first pass) or the previous pass. */
export type ScanFrom = 'act' | 'pairs';
/** What a pass writes: pairs for the next pass, h (forward, last pass) or G (backward, last pass). */
export type ScanTo = 'pairs' | 'result';

/** The affine map of step s from the activations: [a, b] expressions. */
function mapOf(cell: ScanCell, s: string): [string, string] {
  const base = `actOff + (${s} * ${C}bs + b) * ${C}kh + u`;
  return cell === 'mingru'
    ? [`(1 - act[${base}])`, `act[${base}] * act[${base} + ${C}h]`]
    : [`act[${base}]`, `act[${base} + ${C}h] * act[${base} + 2 * ${C}h]`];
}

/**
 * One pass. Forward, element t composes the maps at t, t−d, t−2d, t−3d (older ones first);
 * backward, the reverse recurrence G_t = dh_t + a_{t+1}·G_{t+1} composes t, t+d, t+2d, t+3d. A
 * term outside [0, steps) is the identity. The last forward pass writes h_t = A·h_0 + B over the
 * steps·batch×H rows after slot 0; the last backward pass writes G (B alone).
 */
export function scanPassSource(cell: ScanCell, dir: ScanDirection, from: ScanFrom, to: ScanTo): KernelSource {
  const pairOut = to === 'pairs';
  const terms: string[] = [];
  for (let j = 3; j >= 0; j--) {
    const s = dir === 'forward' ? `t - ${j} * d` : `t + ${j} * d`;
    const inside = dir === 'forward' ? `s${j} >= 0` : `s${j} < ${C}steps`;
    let a: string, b: string;
    if (from === 'pairs') {
      [a, b] = [`pairs[s${j} * ${C}bh + e]`, `pairs[${C}tbh + s${j} * ${C}bh + e]`];
    } else if (dir === 'forward') {
      [a, b] = mapOf(cell, `s${j}`);
    } else {
      // a_{s+1}, none after the last step (truncated BPTT); b_s = dh_s.
      const [next] = mapOf(cell, `(s${j} + 1)`);
      b = `dh[dhOff + s${j} * ${C}bh + e]`;
      terms.push(`  const s${j} = ${s};
  if (${inside}) {
    let a${j} = 0;
    if (s${j} + 1 < ${C}steps) {
      a${j} = ${next};
    }
    accB = ${b} + a${j} * accB;
    accA = a${j} * accA;
  }`);
      continue;
    }
    terms.push(`  const s${j} = ${s};
  if (${inside}) {
    const a${j} = ${a};
    accB = ${b} + a${j} * accB;
    accA = a${j} * accA;
  }`);
  }
  const params = [
    from === 'pairs' ? 'pairs' : 'act, actOff',
    ...(dir === 'backward' && from === 'act' ? ['dh, dhOff'] : []),
    ...(dir === 'forward' && !pairOut ? ['h0, h0Off'] : []),
    'd',
  ].join(', ');
  const index = pairOut
    ? `  let isB = 0;
  if (this.thread.x >= ${C}tbh) {
    isB = 1;
  }
  const xi = this.thread.x - isB * ${C}tbh;`
    : '  const xi = this.thread.x;';
  const result = pairOut
    ? `  let res = accA;
  if (isB === 1) {
    res = accB;
  }`
    : dir === 'forward'
      ? '  const res = accA * h0[h0Off + e] + accB;'
      : '  const res = accB;';
  return {
    name: `scan.${cell}.${dir}.${from}>${to}`,
    src: `function (${params}) {
${index}
  const t = Math.floor((xi + 0.5) / ${C}bh);
  const e = xi - t * ${C}bh;
  const b = Math.floor((e + 0.5) / ${C}h);
  const u = e - b * ${C}h;
  let accA = 1;
  let accB = 0;
${terms.join('\n')}
${result}
  return res;
}`,
  };
}
