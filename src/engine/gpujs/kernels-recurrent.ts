// Fused timestep kernels of the classic cells: one launch computes a timestep's recurrent product
// and its cell together, forward or backward. A gpu.js kernel gives each thread one output slot,
// so a thread returns four floats ([a, b, c, d], kept as a flat tensor: backend.ts emit4) and the
// kernel writes the layer's whole `saved` (or backward scratch) tensor: the threads of step t
// compute, the others carry the tensor's values through (a kernel output is always a fresh whole
// tensor). One thread per unit (four units for the Elman cell) holds what its unit needs later, in
// four floats; whatever else is needed is recomputed from those exactly as it was computed:
//   lstm forward  [c, i, f, o]        h = o·tanh(c); g from c = f·c_prev + i·g (see lstmBackStep)
//   lstm backward [dcTot, dPre_o, dPre_i, dPre_g]   dPre_f = dcTot·c_prev·f·(1 − f)
//   gru forward   [r, z, ghn, h]      n = tanh(x_n + r·ghn)
//   gru backward  [dr, dz, dn, dhTot] dGh's n block = dn·r
//   rnn           h (forward), dPre (backward) of four units
// so every thread does only its own unit's dot products: each step's recurrent product is done
// once. Per step slot, 4·batch·H floats (rnn: batch·H), element (t, b, u) at (t·bh + b·H + u)·4.
// The backward takes the next step's gate gradients through W_hᵀ inside the same kernel. Step t
// is an argument, so one compiled kernel serves every step; `first` kernels read the carried-in
// state from the layer's h (and c), `last` kernels have no later step sending a gradient back.
// Constants: h, hq (H/4), h3, h4, bs (batch), bh (batch·H), slot (threads per step slot).
import { type KernelSource, tanh } from './kernels.js';

const C = 'this.constants.';
const sigmoid = (x: string): string => `1 / (1 + Math.exp(-(${x})))`;

export interface StepVariant {
  /** t = 0: the previous state comes from the layer's h (and c) slot 0. */
  first: boolean;
  /** t = steps − 1: no later step sends a gradient back. */
  last: boolean;
}

const tag = (v: Partial<StepVariant>): string => `${v.first ? 'F' : ''}${v.last ? 'L' : ''}`;

/** Thread → (slot, local); a thread outside step t carries its four floats of `out` through. */
function header(params: string, out: string): string {
  return `function (${params}) {
  const slot = Math.floor((this.thread.x + 0.5) / ${C}slot);
  const local = this.thread.x - slot * ${C}slot;
  const o4 = 4 * this.thread.x;
  let r0 = ${out}[o4];
  let r1 = ${out}[o4 + 1];
  let r2 = ${out}[o4 + 2];
  let r3 = ${out}[o4 + 3];`;
}

const footer = `
  return [r0, r1, r2, r3];
}`;

/** Unit (b, u) of a thread of the step slot. */
const unit = `    const b = Math.floor((local + 0.5) / ${C}h);
    const u = local - b * ${C}h;`;

/** Where unit (b, u) of step slot `t` starts in a 4-floats-a-unit tensor. */
const at = (t: string, u = 'u'): string => `(${t} * ${C}bh + b * ${C}h + ${u}) * 4`;

// ------------------------------------------------------------------------------------------ LSTM

/** h = o·tanh(c) of a unit held as [c, i, f, o] at index `q`. */
const lstmH = (q: string): string => `S[${q} + 3] * ${tanh(`S[${q}]`)}`;

/** One LSTM forward step into S: [c, i, f, o] per unit. The first step reads the layer's slot 0 (hp, cp). */
export function lstmStepSource(v: Pick<StepVariant, 'first'>): KernelSource {
  // The loop walks its indices by increments: gpu.js kernels compute every index in float.
  const hBase = v.first ? `hpOff + b * ${C}h` : at('(t - 1)', '0');
  const hOf = v.first ? 'hp[hq]' : lstmH('hq');
  const hStep = v.first ? 1 : 4;
  const cPrev = v.first ? `cp[cpOff + b * ${C}h + u]` : `S[${at('(t - 1)')}]`;
  return {
    name: `lstmStep${tag(v)}`,
    src: `${header(`S, x, xOff, w, wOff${v.first ? ', hp, hpOff, cp, cpOff' : ''}, t`, 'S')}
  if (slot === t) {
${unit}
    let si = 0;
    let sf = 0;
    let sg = 0;
    let so = 0;
    let hq = ${hBase};
    let wk = wOff + u;
    for (let k = 0; k < ${C}h; k++) {
      const hk = ${hOf};
      si += hk * w[wk];
      sf += hk * w[wk + ${C}h];
      sg += hk * w[wk + 2 * ${C}h];
      so += hk * w[wk + 3 * ${C}h];
      hq += ${hStep};
      wk += ${C}h4;
    }
    const xb = xOff + t * 4 * ${C}bh + b * ${C}h4 + u;
    const ig = ${sigmoid('si + x[xb]')};
    const fg = ${sigmoid(`sf + x[xb + ${C}h]`)};
    const gg = ${tanh(`sg + x[xb + 2 * ${C}h]`)};
    r0 = fg * ${cPrev} + ig * gg;
    r1 = ig;
    r2 = fg;
    r3 = ${sigmoid(`so + x[xb + 3 * ${C}h]`)};
  }${footer}`,
  };
}

/** c (which 0) or h (1) of steps 1..T from S: batch·H rows a step after the layer's slot 0. */
export function lstmStateSource(which: 0 | 1): KernelSource {
  return {
    name: `lstmState${which}`,
    src: `function (S) {
  const q = 4 * this.thread.x;
  return ${which ? lstmH('q') : 'S[q]'};
}`,
  };
}

/**
 * One LSTM backward step into D: dhTot = dh_t + Σ dPre_{t+1}·W_hᵀ (the next step's dPre_f rebuilt
 * from its slot), then the cell. g is not kept: i·g = c − f·c_prev exactly as c was summed (to
 * within a rounding of c), and g = i·g / i, clamped to tanh's range, enters only dPre_g, which
 * carries a factor i: where i is tiny g is imprecise and dPre_g is tiny anyway.
 */
export function lstmBackStepSource(v: StepVariant): KernelSource {
  const cPrev = v.first ? `cp[cpOff + b * ${C}h + u]` : `S[${at('(t - 1)')}]`;
  const rec = v.last ? '' : `
    let rec = 0;
    let dd = ${at('(t + 1)', '0')};
    let wr = wOff + u * ${C}h4;
    for (let u2 = 0; u2 < ${C}h; u2++) {
      const fn = S[dd + 2];
      const dPf = D[dd] * S[dd - 4 * ${C}bh] * fn * (1 - fn);
      rec += D[dd + 2] * w[wr] + dPf * w[wr + ${C}h] + D[dd + 3] * w[wr + 2 * ${C}h] + D[dd + 1] * w[wr + 3 * ${C}h];
      dd += 4;
      wr += 1;
    }
    dhTot = rec + dhv;
    const nu = ${at('(t + 1)')};
    dcNext = D[nu] * S[nu + 2];`;
  return {
    name: `lstmBackStep${tag(v)}`,
    src: `${header(`D, S, dh, dhOff, w, wOff${v.first ? ', cp, cpOff' : ''}, t`, 'D')}
  if (slot === t) {
${unit}
    const sa = ${at('t')};
    const cNow = S[sa];
    const ai = S[sa + 1];
    const af = S[sa + 2];
    const ao = S[sa + 3];
    const ig = cNow - af * ${cPrev};
    let gv = 0;
    if (ai > 1e-30) {
      gv = Math.min(Math.max(ig / ai, -1), 1);
    }
    const tc = ${tanh('cNow')};
    const dhv = dh[dhOff + t * ${C}bh + b * ${C}h + u];
    let dhTot = dhv;
    let dcNext = 0;${rec}
    const dcTot = dcNext + dhTot * ao * (1 - tc * tc);
    r0 = dcTot;
    r1 = dhTot * tc * ao * (1 - ao);
    r2 = dcTot * ig * (1 - ai);
    r3 = dcTot * ai * (1 - gv * gv);
  }${footer}`,
  };
}

/** dPre, steps·batch × 4H in gate order [i | f | g | o], from D, S and (step 0's c_prev) the layer's c. */
export const lstmGradSource: KernelSource = {
  name: 'lstmGrad',
  src: `function (D, S, cp, cpOff) {
  const row = Math.floor((this.thread.x + 0.5) / ${C}h4);
  const col = this.thread.x - row * ${C}h4;
  const gate = Math.floor((col + 0.5) / ${C}h);
  const u = col - gate * ${C}h;
  const q = (row * ${C}h + u) * 4;
  let res = D[q + 1];
  if (gate === 0) {
    res = D[q + 2];
  } else if (gate === 2) {
    res = D[q + 3];
  } else if (gate === 1) {
    let cPrev = 0;
    if (row < ${C}bs) {
      cPrev = cp[cpOff + row * ${C}h + u];
    } else {
      cPrev = S[q - 4 * ${C}bh];
    }
    const fv = S[q + 2];
    res = D[q] * cPrev * fv * (1 - fv);
  }
  return res;
}`,
};

// ------------------------------------------------------------------------------------------- GRU

/** n = tanh(x_n + r·ghn) of unit u at step t, from x and S's [r, z, ghn, h] at `q`. */
const gruN = (q: string): string => tanh(`x[xOff + t * 3 * ${C}bh + b * ${C}h3 + 2 * ${C}h + u] + S[${q}] * S[${q} + 2]`);

/** One GRU forward step into S: [r, z, ghn, h] per unit. The first step reads the layer's slot 0 (hp). */
export function gruStepSource(v: Pick<StepVariant, 'first'>): KernelSource {
  const hOf = (k: string): string => (v.first ? `hp[hpOff + b * ${C}h + ${k}]` : `S[${at('(t - 1)', k)} + 3]`);
  const hBase = v.first ? `hpOff + b * ${C}h` : `${at('(t - 1)', '0')} + 3`;
  return {
    name: `gruStep${tag(v)}`,
    src: `${header(`S, x, xOff, w, wOff, bias, biasOff${v.first ? ', hp, hpOff' : ''}, t`, 'S')}
  if (slot === t) {
${unit}
    let sr = 0;
    let sz = 0;
    let sn = 0;
    let hq = ${hBase};
    let wk = wOff + u;
    for (let k = 0; k < ${C}h; k++) {
      const hk = ${v.first ? 'hp[hq]' : 'S[hq]'};
      sr += hk * w[wk];
      sz += hk * w[wk + ${C}h];
      sn += hk * w[wk + 2 * ${C}h];
      hq += ${v.first ? 1 : 4};
      wk += ${C}h3;
    }
    const xb = xOff + t * 3 * ${C}bh + b * ${C}h3 + u;
    const ghn = sn + bias[biasOff + 2 * ${C}h + u];
    const rg = ${sigmoid(`x[xb] + (sr + bias[biasOff + u])`)};
    const zg = ${sigmoid(`x[xb + ${C}h] + (sz + bias[biasOff + ${C}h + u])`)};
    const ng = ${tanh(`x[xb + 2 * ${C}h] + rg * ghn`)};
    r0 = rg;
    r1 = zg;
    r2 = ghn;
    r3 = (1 - zg) * ng + zg * ${hOf('u')};
  }${footer}`,
  };
}

/** h of steps 1..T from S. */
export const gruStateSource: KernelSource = {
  name: 'gruState',
  src: `function (S) {
  return S[4 * this.thread.x + 3];
}`,
};

/**
 * One GRU backward step into D. dhTot = dh_t + dhTot_{t+1}·z_{t+1} (the direct path) +
 * Σ dGh_{t+1}·W_hᵀ, dGh rebuilt from the next slot (its n block is dn·r).
 */
export function gruBackStepSource(v: StepVariant): KernelSource {
  const hPrev = v.first ? `hp[hpOff + b * ${C}h + u]` : `S[${at('(t - 1)')} + 3]`;
  const rec = v.last ? '' : `
    let rec = 0;
    let dd = ${at('(t + 1)', '0')};
    let wr = wOff + u * ${C}h3;
    for (let u2 = 0; u2 < ${C}h; u2++) {
      rec += D[dd] * w[wr] + D[dd + 1] * w[wr + ${C}h] + D[dd + 2] * S[dd] * w[wr + 2 * ${C}h];
      dd += 4;
      wr += 1;
    }
    const nu = ${at('(t + 1)')};
    g = rec + (dhv + D[nu + 3] * S[nu + 1]);`;
  return {
    name: `gruBackStep${tag(v)}`,
    src: `${header(`D, S, x, xOff, dh, dhOff, w, wOff${v.first ? ', hp, hpOff' : ''}, t`, 'D')}
  if (slot === t) {
${unit}
    const sa = ${at('t')};
    const rv = S[sa];
    const zv = S[sa + 1];
    const nv = ${gruN('sa')};
    const dhv = dh[dhOff + t * ${C}bh + b * ${C}h + u];
    let g = dhv;${rec}
    const dnPre = g * (1 - zv) * (1 - nv * nv);
    r0 = dnPre * S[sa + 2] * rv * (1 - rv);
    r1 = g * (${hPrev} - nv) * zv * (1 - zv);
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
  const q = (row * ${C}h + col - gate * ${C}h) * 4;
  let res = D[q + gate];${forRec ? `
  if (gate === 2) {
    res = res * S[q];
  }` : ''}
  return res;
}`,
  };
}

// ------------------------------------------------------------------------------------------- RNN

/** One Elman step into S (batch·H floats a step, h rows): four units a thread; hp the previous h rows. */
export const rnnStepSource: KernelSource = {
  name: 'rnnStep',
  src: `${header('S, x, xOff, w, wOff, hp, hpOff, t', 'S')}
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
    name: `rnnBackStep${tag(v)}`,
    src: `${header('D, S, dh, dhOff, w, wOff, t', 'D')}
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
