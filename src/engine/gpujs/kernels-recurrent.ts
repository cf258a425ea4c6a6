// Fused timestep kernels of the classic cells: one launch computes a timestep's recurrent product
// and its cell together, forward or backward. A gpu.js kernel gives each thread one output slot,
// so a thread returns four floats ([a, b, c, d], kept as a flat tensor: backend.ts emit4) and the
// kernel writes the layer's whole `saved` (or backward scratch) tensor: the threads of step t
// compute, the others carry the tensor's values through (a kernel output is always a fresh whole
// tensor). Layouts, per step slot, with bh = batch·H:
//   lstm forward  [i f g o] per unit (bh threads) | [c h c' h'] per pair of units (bh/2): 6·bh floats
//   lstm backward [dcTot, dPre_o, dPre_i, dPre_f] per unit: 4·bh (dPre_g = dcTot·i·(1 − g²))
//   gru forward   [r z n ghn] per unit | h of four units (bh/4): 5·bh
//   gru backward  [dr dz dn dhTot] per unit: 4·bh
//   rnn           h (forward), dPre (backward) of four units per thread: bh
// A thread computes every gate of its units, so the recurrent product of a step is done once for
// the values a unit needs together: the LSTM's forward pair threads repeat the unit threads' dot
// products (2x the forward recurrent work, for 6 values a unit where a thread holds 4); everything
// else is done once. The backward takes the next step's gate gradients through W_hᵀ inside the
// same kernel. Step t is an argument, so one compiled kernel serves every step; `first` kernels
// read the carried-in state from the layer's h and c, `last` kernels have no later step.
// Constants: h, h2 (H/2), hq (H/4), h3, h4, bs (batch), bh, slot (threads per step slot).
import { type KernelSource, tanh } from './kernels.js';

const C = 'this.constants.';
const sigmoid = (x: string): string => `1 / (1 + Math.exp(-(${x})))`;

export interface StepVariant {
  /** t = 0: the previous state comes from the layer's h (and c) slot 0. */
  first: boolean;
  /** t = steps − 1: no later step sends a gradient back. */
  last: boolean;
}

const tag = (v: StepVariant): string => `${v.first ? 'F' : ''}${v.last ? 'L' : ''}`;

/** Thread → (slot, local); a thread outside step t carries its four floats through. */
function header(params: string): string {
  return `function (${params}) {
  const slot = Math.floor((this.thread.x + 0.5) / ${C}slot);
  const local = this.thread.x - slot * ${C}slot;
  const o4 = 4 * this.thread.x;
  let r0 = S[o4];
  let r1 = S[o4 + 1];
  let r2 = S[o4 + 2];
  let r3 = S[o4 + 3];`;
}

const footer = `
  return [r0, r1, r2, r3];
}`;

// ------------------------------------------------------------------------------------------ LSTM

/**
 * One LSTM forward step into S (6·bh floats a step). The previous h and c: the first step reads
 * hp[hpOff + b·H + k] and cp (the layer's slot 0), later steps the pair threads of slot t − 1.
 */
export function lstmStepSource(v: StepVariant): KernelSource {
  const prev = `(t - 1) * 6 * ${C}bh + 4 * ${C}bh`;
  const hPair = (b: string, q: string, which: 0 | 1): string =>
    v.first ? `hp[hpOff + ${b} * ${C}h + 2 * ${q} + ${which}]` : `S[${prev} + (${b} * ${C}h2 + ${q}) * 4 + ${2 * which + 1}]`;
  const cOf = (b: string, q: string, which: 0 | 1): string =>
    v.first ? `cp[cpOff + ${b} * ${C}h + 2 * ${q} + ${which}]` : `S[${prev} + (${b} * ${C}h2 + ${q}) * 4 + ${2 * which}]`;
  // Gate sums of `units` units starting at u0 (accumulators s{gate}{unit}), k in pairs.
  const sums = (units: number): string => {
    const decl: string[] = [], acc: string[] = [];
    for (let j = 0; j < units; j++) {
      for (const g of ['i', 'f', 'g', 'o']) decl.push(`    let s${g}${j} = 0;`);
    }
    for (const [hv, row] of [['ha', '2 * q2'], ['hb', '2 * q2 + 1']]) {
      for (let j = 0; j < units; j++) {
        acc.push(`      const w${hv}${j} = wOff + (${row}) * ${C}h4 + u0 + ${j};`);
        ['i', 'f', 'g', 'o'].forEach((g, gi) => acc.push(`      s${g}${j} += ${hv} * w[w${hv}${j}${gi ? ` + ${gi} * ${C}h` : ''}];`));
      }
    }
    return `${decl.join('\n')}
    for (let q2 = 0; q2 < ${C}h2; q2++) {
      const ha = ${hPair('b', 'q2', 0)};
      const hb = ${hPair('b', 'q2', 1)};
${acc.join('\n')}
    }
    const xb = xOff + t * 4 * ${C}bh + b * ${C}h4 + u0;`;
  };
  const gates = (j: number): string => `    const i${j} = ${sigmoid(`si${j} + x[xb + ${j}]`)};
    const f${j} = ${sigmoid(`sf${j} + x[xb + ${C}h + ${j}]`)};
    const g${j} = ${tanh(`sg${j} + x[xb + 2 * ${C}h + ${j}]`)};
    const o${j} = ${sigmoid(`so${j} + x[xb + 3 * ${C}h + ${j}]`)};`;
  const cell = (j: number): string => `    const c${j} = f${j} * ${cOf('b', 'q', j as 0 | 1)} + i${j} * g${j};
    const h${j} = o${j} * ${tanh(`c${j}`)};`;
  return {
    name: `lstmStep${tag(v)}`,
    src: `${header(`S, x, xOff, w, wOff${v.first ? ', hp, hpOff, cp, cpOff' : ''}, t`)}
  if (slot === t) {
    if (local < ${C}bh) {
      const b = Math.floor((local + 0.5) / ${C}h);
      const u0 = local - b * ${C}h;
${sums(1)}
${gates(0)}
      r0 = i0;
      r1 = f0;
      r2 = g0;
      r3 = o0;
    } else {
      const pq = local - ${C}bh;
      const b = Math.floor((pq + 0.5) / ${C}h2);
      const q = pq - b * ${C}h2;
      const u0 = 2 * q;
${sums(2)}
${gates(0)}
${gates(1)}
${cell(0)}
${cell(1)}
      r0 = c0;
      r1 = h0;
      r2 = c1;
      r3 = h1;
    }
  }${footer}`,
  };
}

/** c (which 0) or h (1) of steps 1..T from S, T·bh rows after the layer's slot 0. */
export function lstmStateSource(which: 0 | 1): KernelSource {
  return {
    name: `lstmState${which}`,
    src: `function (S) {
  const t = Math.floor((this.thread.x + 0.5) / ${C}bh);
  const e = this.thread.x - t * ${C}bh;
  const b = Math.floor((e + 0.5) / ${C}h);
  const u = e - b * ${C}h;
  const q = Math.floor((u + 0.5) / 2);
  return S[t * 6 * ${C}bh + 4 * ${C}bh + (b * ${C}h2 + q) * 4 + 2 * (u - 2 * q) + ${which}];
}`,
  };
}

/**
 * One LSTM backward step into D (4·bh floats a step): dhTot = dh_t + Σ dPre_{t+1}·W_hᵀ (the
 * next step's gate gradients rebuilt from its slot: dPre_g from dcTot, i and g), then the cell.
 */
export function lstmBackStepSource(v: StepVariant): KernelSource {
  const cPair = (slot: string, b: string, u: string): string =>
    `S[${slot} * 6 * ${C}bh + 4 * ${C}bh + (${b} * ${C}h2 + Math.floor((${u} + 0.5) / 2)) * 4 + 2 * (${u} - 2 * Math.floor((${u} + 0.5) / 2))]`;
  const rec = v.last ? '' : `
    const nd = (t + 1) * 4 * ${C}bh;
    const ns = (t + 1) * 6 * ${C}bh;
    let rec = 0;
    for (let u2 = 0; u2 < ${C}h; u2++) {
      const dd = nd + (b * ${C}h + u2) * 4;
      const ss = ns + (b * ${C}h + u2) * 4;
      const gn = S[ss + 2];
      const dPg = D[dd] * S[ss] * (1 - gn * gn);
      const wr = wOff + u * ${C}h4 + u2;
      rec += D[dd + 2] * w[wr] + D[dd + 3] * w[wr + ${C}h] + dPg * w[wr + 2 * ${C}h] + D[dd + 1] * w[wr + 3 * ${C}h];
    }
    dhTot = rec + dhv;
    dcNext = D[nd + (b * ${C}h + u) * 4] * S[ns + (b * ${C}h + u) * 4 + 1];`;
  return {
    name: `lstmBackStep${tag(v)}`,
    src: `${header(`D, S, dh, dhOff, w, wOff${v.first ? ', cp, cpOff' : ''}, t`).replaceAll('S[o4', 'D[o4')}
  if (slot === t) {
    const b = Math.floor((local + 0.5) / ${C}h);
    const u = local - b * ${C}h;
    const sa = t * 6 * ${C}bh + (b * ${C}h + u) * 4;
    const ai = S[sa];
    const af = S[sa + 1];
    const ag = S[sa + 2];
    const ao = S[sa + 3];
    const cPrev = ${v.first ? `cp[cpOff + b * ${C}h + u]` : cPair('(t - 1)', 'b', 'u')};
    const tc = ${tanh(cPair('t', 'b', 'u'))};
    const dhv = dh[dhOff + t * ${C}bh + b * ${C}h + u];
    let dhTot = dhv;
    let dcNext = 0;${rec}
    const dcTot = dcNext + dhTot * ao * (1 - tc * tc);
    r0 = dcTot;
    r1 = dhTot * tc * ao * (1 - ao);
    r2 = dcTot * ag * ai * (1 - ai);
    r3 = dcTot * cPrev * af * (1 - af);
  }${footer}`,
  };
}

/** dPre, steps·batch × 4H in gate order [i | f | g | o], from D (and i, g from S). */
export const lstmGradSource: KernelSource = {
  name: 'lstmGrad',
  src: `function (D, S) {
  const row = Math.floor((this.thread.x + 0.5) / ${C}h4);
  const col = this.thread.x - row * ${C}h4;
  const gate = Math.floor((col + 0.5) / ${C}h);
  const u = col - gate * ${C}h;
  const t = Math.floor((row + 0.5) / ${C}bs);
  const dd = (row * ${C}h + u) * 4;
  let res = 0;
  if (gate === 0) {
    res = D[dd + 2];
  } else if (gate === 1) {
    res = D[dd + 3];
  } else if (gate === 3) {
    res = D[dd + 1];
  } else {
    const sa = t * 6 * ${C}bh + ((row - t * ${C}bs) * ${C}h + u) * 4;
    const gv = S[sa + 2];
    res = D[dd] * S[sa] * (1 - gv * gv);
  }
  return res;
}`,
};

// ------------------------------------------------------------------------------------------- GRU

/**
 * One GRU forward step into S (5·bh floats a step). The previous h is hp[hpOff + b·H + k]: the
 * layer's slot 0 for the first step, the h rows of slot t − 1 of S after it (the same expression).
 */
export const gruStepSource: KernelSource = (() => {
  const sums = (units: number): string => {
    const decl: string[] = [], acc: string[] = [];
    for (let j = 0; j < units; j++) for (const g of ['r', 'z', 'n']) decl.push(`    let s${g}${j} = 0;`);
    for (let j = 0; j < units; j++) {
      acc.push(`      const wk${j} = wOff + k * ${C}h3 + u0 + ${j};`);
      ['r', 'z', 'n'].forEach((g, gi) => acc.push(`      s${g}${j} += hk * w[wk${j}${gi ? ` + ${gi} * ${C}h` : ''}];`));
    }
    return `${decl.join('\n')}
    for (let k = 0; k < ${C}h; k++) {
      const hk = hp[hpOff + b * ${C}h + k];
${acc.join('\n')}
    }
    const xb = xOff + t * 3 * ${C}bh + b * ${C}h3 + u0;`;
  };
  const gates = (j: number): string => `    const ghn${j} = sn${j} + bias[biasOff + 2 * ${C}h + u0 + ${j}];
    const rg${j} = ${sigmoid(`x[xb + ${j}] + (sr${j} + bias[biasOff + u0 + ${j}])`)};
    const zg${j} = ${sigmoid(`x[xb + ${C}h + ${j}] + (sz${j} + bias[biasOff + ${C}h + u0 + ${j}])`)};
    const ng${j} = ${tanh(`x[xb + 2 * ${C}h + ${j}] + rg${j} * ghn${j}`)};`;
  const hOut = (j: number): string => `(1 - zg${j}) * ng${j} + zg${j} * hp[hpOff + b * ${C}h + u0 + ${j}]`;
  return {
    name: 'gruStep',
    src: `${header('S, x, xOff, w, wOff, bias, biasOff, hp, hpOff, t')}
  if (slot === t) {
    if (local < ${C}bh) {
      const b = Math.floor((local + 0.5) / ${C}h);
      const u0 = local - b * ${C}h;
${sums(1)}
${gates(0)}
      r0 = rg0;
      r1 = zg0;
      r2 = ng0;
      r3 = ghn0;
    } else {
      const pq = local - ${C}bh;
      const b = Math.floor((pq + 0.5) / ${C}hq);
      const u0 = 4 * (pq - b * ${C}hq);
${sums(4)}
${[0, 1, 2, 3].map(gates).join('\n')}
      r0 = ${hOut(0)};
      r1 = ${hOut(1)};
      r2 = ${hOut(2)};
      r3 = ${hOut(3)};
    }
  }${footer}`,
  };
})();

/** h of steps 1..T from the h rows of S (slot t at t·5·bh + 4·bh). */
export const gruStateSource: KernelSource = {
  name: 'gruState',
  src: `function (S) {
  const t = Math.floor((this.thread.x + 0.5) / ${C}bh);
  return S[t * 5 * ${C}bh + 4 * ${C}bh + this.thread.x - t * ${C}bh];
}`,
};

/**
 * One GRU backward step into D (4·bh floats a step). dhTot = dh_t + dhTot_{t+1}·z_{t+1} (the
 * direct path) + Σ dGh_{t+1}·W_hᵀ, dGh rebuilt from the next slot (its n block is dn·r).
 */
export function gruBackStepSource(v: Pick<StepVariant, 'last'>): KernelSource {
  const rec = v.last ? '' : `
    const nd = (t + 1) * 4 * ${C}bh;
    const ns = (t + 1) * 5 * ${C}bh;
    let rec = 0;
    for (let u2 = 0; u2 < ${C}h; u2++) {
      const dd = nd + (b * ${C}h + u2) * 4;
      const wr = wOff + u * ${C}h3 + u2;
      rec += D[dd] * w[wr] + D[dd + 1] * w[wr + ${C}h] + D[dd + 2] * S[ns + (b * ${C}h + u2) * 4] * w[wr + 2 * ${C}h];
    }
    g = rec + (dhv + D[nd + (b * ${C}h + u) * 4 + 3] * S[ns + (b * ${C}h + u) * 4 + 1]);`;
  return {
    name: `gruBackStep${v.last ? 'L' : ''}`,
    src: `${header('D, S, dh, dhOff, w, wOff, hp, hpOff, t').replaceAll('S[o4', 'D[o4')}
  if (slot === t) {
    const b = Math.floor((local + 0.5) / ${C}h);
    const u = local - b * ${C}h;
    const sa = t * 5 * ${C}bh + (b * ${C}h + u) * 4;
    const rv = S[sa];
    const zv = S[sa + 1];
    const nv = S[sa + 2];
    const dhv = dh[dhOff + t * ${C}bh + b * ${C}h + u];
    let g = dhv;${rec}
    const dnPre = g * (1 - zv) * (1 - nv * nv);
    r0 = dnPre * S[sa + 3] * rv * (1 - rv);
    r1 = g * (hp[hpOff + b * ${C}h + u] - nv) * zv * (1 - zv);
    r2 = dnPre;
    r3 = g;
  }${footer}`,
  };
}

/** dGx (`forRec` false) or dGh (true: the n block times r), steps·batch × 3H, from D and S. */
export function gruGradSource(forRec: boolean): KernelSource {
  return {
    name: `gruGrad${forRec ? 'Rec' : ''}`,
    src: `function (D, S) {
  const row = Math.floor((this.thread.x + 0.5) / ${C}h3);
  const col = this.thread.x - row * ${C}h3;
  const gate = Math.floor((col + 0.5) / ${C}h);
  const u = col - gate * ${C}h;
  let res = D[(row * ${C}h + u) * 4 + gate];${forRec ? `
  if (gate === 2) {
    const t = Math.floor((row + 0.5) / ${C}bs);
    res = res * S[t * 5 * ${C}bh + ((row - t * ${C}bs) * ${C}h + u) * 4];
  }` : ''}
  return res;
}`,
  };
}

// ------------------------------------------------------------------------------------------- RNN

/** One Elman step into S (bh floats a step, h rows): four units a thread, hp as for the GRU. */
export const rnnStepSource: KernelSource = {
  name: 'rnnStep',
  src: `${header('S, x, xOff, w, wOff, hp, hpOff, t')}
  if (slot === t) {
    const b = Math.floor((local + 0.5) / ${C}hq);
    const u0 = 4 * (local - b * ${C}hq);
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let k = 0; k < ${C}h; k++) {
      const hk = hp[hpOff + b * ${C}h + k];
      const wk = wOff + k * ${C}h + u0;
      s0 += hk * w[wk];
      s1 += hk * w[wk + 1];
      s2 += hk * w[wk + 2];
      s3 += hk * w[wk + 3];
    }
    const xb = xOff + t * ${C}bh + b * ${C}h + u0;
    r0 = ${tanh('s0 + x[xb]')};
    r1 = ${tanh('s1 + x[xb + 1]')};
    r2 = ${tanh('s2 + x[xb + 2]')};
    r3 = ${tanh('s3 + x[xb + 3]')};
  }${footer}`,
};

/** One Elman backward step into D (dPre rows): dPre_t = (dh_t + dPre_{t+1}·W_hᵀ)·(1 − h_{t+1}²). */
export function rnnBackStepSource(v: Pick<StepVariant, 'last'>): KernelSource {
  const acc = [0, 1, 2, 3].map((j) => `      s${j} += dk * w[wOff + (u0 + ${j}) * ${C}h + k];`).join('\n');
  return {
    name: `rnnBackStep${v.last ? 'L' : ''}`,
    src: `${header('D, S, dh, dhOff, w, wOff, t').replaceAll('S[o4', 'D[o4')}
  if (slot === t) {
    const b = Math.floor((local + 0.5) / ${C}hq);
    const u0 = 4 * (local - b * ${C}hq);
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;${v.last ? '' : `
    for (let k = 0; k < ${C}h; k++) {
      const dk = D[(t + 1) * ${C}bh + b * ${C}h + k];
${acc}
    }`}
    const e = t * ${C}bh + b * ${C}h + u0;
    const y0 = S[e];
    const y1 = S[e + 1];
    const y2 = S[e + 2];
    const y3 = S[e + 3];
    r0 = (s0 + dh[dhOff + e]) * (1 - y0 * y0);
    r1 = (s1 + dh[dhOff + e + 1]) * (1 - y1 * y1);
    r2 = (s2 + dh[dhOff + e + 2]) * (1 - y2 * y2);
    r3 = (s3 + dh[dhOff + e + 3]) * (1 - y3 * y3);
  }${footer}`,
  };
}
