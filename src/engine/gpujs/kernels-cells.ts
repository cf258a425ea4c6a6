// gpu.js kernel sources for the pointwise activations, the GRU cell, the minimal gated scans
// (minGRU, minLSTM) and RMSNorm. Same conventions as kernels.ts: one thread per element of a flat
// 1-D output, an offset argument beside every array argument, shapes as kernel constants, row
// indices via rowOf. The reference loops they must match are in ../js/js-cells.ts.
import { type KernelSource, rowOf, tanh } from './kernels.js';

const C = 'this.constants.';
const X = 'this.thread.x';
const sigmoid = (x: string): string => `1 / (1 + Math.exp(-(${x})))`;
/** √(2/π), the GELU tanh-approximation constant. */
const GELU_C = String(Math.sqrt(2 / Math.PI));

export type ScanCell = 'mingru' | 'minlstm';

// ------------------------------------------------------------------------------------- pointwise

export const addElementwiseSource: KernelSource = {
  name: 'addElementwise',
  src: `function (a, aOff, b, bOff) {
  return a[aOff + ${X}] + b[bOff + ${X}];
}`,
};

export const tanhForwardSource: KernelSource = {
  name: 'tanhForward',
  src: `function (x, xOff) {
  return ${tanh(`x[xOff + ${X}]`)};
}`,
};

export const tanhBackwardSource: KernelSource = {
  name: 'tanhBackward',
  src: `function (y, yOff, dy, dyOff) {
  const v = y[yOff + ${X}];
  return dy[dyOff + ${X}] * (1 - v * v);
}`,
};

// GELU through the identity 0.5·(1 + tanh(u)) = σ(2u): gelu(x) = x·σ(2u). No tanh to clamp, and
// for |u| large exp over/underflows to a clean 0 or 1 (1/(1 + ∞) = 0) instead of a NaN.
export const geluForwardSource: KernelSource = {
  name: 'geluForward',
  src: `function (x, xOff) {
  const v = x[xOff + ${X}];
  const u = ${GELU_C} * (v + 0.044715 * v * v * v);
  return v / (1 + Math.exp(-2 * u));
}`,
};

// gelu'(x) = 0.5·(1 + t) + 0.5·x·(1 − t²)·c·(1 + 3·0.044715·x²) with t = tanh(u); with s = σ(2u)
// and sn = σ(−2u) = 1 − s, 0.5·(1 + t) = s and 1 − t² = 4·s·sn. sn gets its own exp so that it
// keeps full relative precision where s rounds to 1. The polynomial uses x clamped to ±20: beyond
// that s·sn < 1e-250 (exactly 0 in float32), and x² would overflow float32 for huge x (0·∞ = NaN).
export const geluBackwardSource: KernelSource = {
  name: 'geluBackward',
  src: `function (x, xOff, dy, dyOff) {
  const v = x[xOff + ${X}];
  const u = ${GELU_C} * (v + 0.044715 * v * v * v);
  const s = 1 / (1 + Math.exp(-2 * u));
  const sn = 1 / (1 + Math.exp(2 * u));
  const vc = Math.min(Math.max(v, -20), 20);
  return dy[dyOff + ${X}] * (s + 2 * ${GELU_C} * s * sn * vc * (1 + 0.134145 * vc * vc));
}`,
};

/** exp(−2u), kept by geluForward for the backward pass. */
export const geluESource: KernelSource = {
  name: 'geluE',
  src: `function (x, xOff) {
  const v = x[xOff + ${X}];
  return Math.exp(-2 * ${GELU_C} * (v + 0.044715 * v * v * v));
}`,
};

/** geluBackward from the kept e = exp(−2u): s = 1/(1 + e), sn = e·s (1 where e is huge and s is 0). */
export const geluBackwardESource: KernelSource = {
  name: 'geluBackwardE',
  src: `function (x, xOff, e, eOff, dy, dyOff) {
  const v = x[xOff + ${X}];
  const ev = e[eOff + ${X}];
  const s = 1 / (1 + ev);
  let sn = 1;
  if (ev < 1e30) sn = ev * s;
  const vc = Math.min(Math.max(v, -20), 20);
  return dy[dyOff + ${X}] * (s + 2 * ${GELU_C} * s * sn * vc * (1 + 0.134145 * vc * vc));
}`,
};

// ------------------------------------------------------------------------------------------- GRU
// Constants: h (hidden), h3 (3·hidden). Rows are batch entries, gate order [r | z | n].

/** Activated gates, batch×3H: r = σ(gx_r + gh_r), z = σ(gx_z + gh_z), n = tanh(gx_n + r·gh_n). */
export const gruActSource: KernelSource = {
  name: 'gruAct',
  src: `function (gx, gxOff, gh, ghOff) {
  const b = ${rowOf('h3')};
  const col = ${X} - b * ${C}h3;
  const gate = Math.floor((col + 0.5) / ${C}h);
  let res = 0;
  if (gate === 2) {
    const q = b * ${C}h3 + col - 2 * ${C}h;
    const r = ${sigmoid('gx[gxOff + q] + gh[ghOff + q]')};
    res = ${tanh(`gx[gxOff + ${X}] + r * gh[ghOff + ${X}]`)};
  } else {
    res = ${sigmoid(`gx[gxOff + ${X}] + gh[ghOff + ${X}]`)};
  }
  return res;
}`,
};

/** h = (1 − z)·n + z·hPrev, batch×H, reading the gates gruAct committed. */
export const gruHiddenSource: KernelSource = {
  name: 'gruHidden',
  src: `function (act, actOff, hPrev, hPrevOff) {
  const b = ${rowOf('h')};
  const base = actOff + b * ${C}h3 + ${X} - b * ${C}h;
  const z = act[base + ${C}h];
  return (1 - z) * act[base + 2 * ${C}h] + z * hPrev[hPrevOff + ${X}];
}`,
};

/**
 * Gradient w.r.t. the gate pre-activations, batch×3H: [dr_pre | dz_pre | dn_pre] for gx; for gh
 * (`forGh`) the n block is dn_pre·r, since n = tanh(gx_n + r·gh_n).
 */
export function gruBackGatesSource(forGh: boolean): KernelSource {
  return {
    name: forGh ? 'gruBackGh' : 'gruBackGx',
    src: `function (act, actOff, gh, ghOff, hPrev, hPrevOff, dh, dhOff) {
  const b = ${rowOf('h3')};
  const col = ${X} - b * ${C}h3;
  const gate = Math.floor((col + 0.5) / ${C}h);
  const u = col - gate * ${C}h;
  const base = actOff + b * ${C}h3 + u;
  const e = b * ${C}h + u;
  const r = act[base];
  const z = act[base + ${C}h];
  const n = act[base + 2 * ${C}h];
  const g = dh[dhOff + e];
  const dnPre = g * (1 - z) * (1 - n * n);
  let res = 0;
  if (gate === 0) {
    res = dnPre * gh[ghOff + b * ${C}h3 + 2 * ${C}h + u] * r * (1 - r);
  } else if (gate === 1) {
    res = g * (hPrev[hPrevOff + e] - n) * z * (1 - z);
  } else {
    res = dnPre${forGh ? ' * r' : ''};
  }
  return res;
}`,
  };
}

/** dhPrev + dh·z, batch×H (the old dhPrev is an input: the op accumulates). */
export const gruBackHPrevSource: KernelSource = {
  name: 'gruBackHPrev',
  src: `function (act, actOff, dh, dhOff, dhPrev, dhPrevOff) {
  const b = ${rowOf('h')};
  const z = act[actOff + b * ${C}h3 + ${X} - b * ${C}h + ${C}h];
  return dhPrev[dhPrevOff + ${X}] + dh[dhOff + ${X}] * z;
}`,
};

// ------------------------------------------------------------------------------ minGRU / minLSTM
// Constants: h (hidden), kh (row length of proj/act: 2H for minGRU, 3H for minLSTM). The value
// block (g(u)) is the last one: gate k − 1. g(x) = x + 0.5 for x ≥ 0, σ(x) otherwise.

const lastGate = (cell: ScanCell): number => (cell === 'mingru' ? 1 : 2);

/** act over steps·batch rows: minGRU [z | g(u)], minLSTM [f' | i' | g(u)]. */
export function minActSource(cell: ScanCell): KernelSource {
  const gates =
    cell === 'mingru'
      ? `res = ${sigmoid(`proj[projOff + ${X}]`)};`
      : `const base = projOff + row * ${C}kh + col - gate * ${C}h;
    const sf = ${sigmoid('proj[base]')};
    const si = ${sigmoid(`proj[base + ${C}h]`)};
    if (gate === 0) {
      res = sf / (sf + si);
    } else {
      res = si / (sf + si);
    }`;
  return {
    name: `minAct.${cell}`,
    src: `function (proj, projOff) {
  const row = ${rowOf('kh')};
  const col = ${X} - row * ${C}kh;
  const gate = Math.floor((col + 0.5) / ${C}h);
  let res = 0;
  if (gate === ${lastGate(cell)}) {
    const v = proj[projOff + ${X}];
    if (v >= 0) {
      res = v + 0.5;
    } else {
      res = ${sigmoid('v')};
    }
  } else {
    ${gates}
  }
  return res;
}`,
  };
}

/**
 * Gradient w.r.t. proj rows (batch×kH a step; any number of steps' rows at once), given each
 * step's total gradient G_t (kernels-scan.ts) and the state before it.
 */
export function minBackSource(cell: ScanCell): KernelSource {
  const gates =
    cell === 'mingru'
      ? `const z = act[actOff + q];
    res = gt * (uv - hp) * z * (1 - z);`
      : `const a = act[actOff + q];
    const c = act[actOff + q + ${C}h];
    const dA = gt * (hp - uv);
    if (gate === 0) {
      const sf = ${sigmoid('proj[projOff + q]')};
      res = dA * a * c * (1 - sf);
    } else {
      const si = ${sigmoid(`proj[projOff + q + ${C}h]`)};
      res = -dA * a * c * (1 - si);
    }`;
  const coef = cell === 'mingru' ? 'q' : `q + ${C}h`;
  return {
    name: `minBack.${cell}`,
    src: `function (g, gOff, act, actOff, proj, projOff, hPrev, hPrevOff) {
  const b = ${rowOf('kh')};
  const col = ${X} - b * ${C}kh;
  const gate = Math.floor((col + 0.5) / ${C}h);
  const u = col - gate * ${C}h;
  const q = b * ${C}kh + u;
  const e = b * ${C}h + u;
  const gt = g[gOff + e];
  const hp = hPrev[hPrevOff + e];
  const uv = act[actOff + q + ${lastGate(cell)} * ${C}h];
  let res = 0;
  if (gate === ${lastGate(cell)}) {
    // g'(u) from g(u) itself: σ(u)(1 − σ(u)) where u < 0, where g(u) = σ(u).
    const dg = proj[projOff + ${X}] < 0 ? uv * (1 - uv) : 1;
    res = gt * act[actOff + ${coef}] * dg;
  } else {
    ${gates}
  }
  return res;
}`,
  };
}

// --------------------------------------------------------------------------------------- RMSNorm
// Constants: cols (and rows where a kernel loops over them).

/** Per-row 1/sqrt(mean(x²) + eps). */
export const rmsRstdSource: KernelSource = {
  name: 'rmsRstd',
  src: `function (x, xOff, eps) {
  const base = xOff + ${X} * ${C}cols;
  let ss = 0;
  for (let c = 0; c < ${C}cols; c++) {
    const v = x[base + c];
    ss += v * v;
  }
  return 1 / Math.sqrt(ss / ${C}cols + eps);
}`,
};

/** out = x·rstd·w, reading the per-row rstd from rmsRstd's (uncommitted) output. */
export const rmsOutSource: KernelSource = {
  name: 'rmsOut',
  src: `function (x, xOff, w, wOff, rstd, rstdOff) {
  const r = ${rowOf('cols')};
  return x[xOff + ${X}] * rstd[rstdOff + r] * w[wOff + ${X} - r * ${C}cols];
}`,
};

/** Per-row k = rstd²·mean(x·w·dOut), the shared term of the input gradient. */
export const rmsBackRowSource: KernelSource = {
  name: 'rmsBackRow',
  src: `function (x, xOff, w, wOff, rstd, rstdOff, dOut, dOutOff) {
  const base = ${X} * ${C}cols;
  let dot = 0;
  for (let c = 0; c < ${C}cols; c++) {
    dot += x[xOff + base + c] * w[wOff + c] * dOut[dOutOff + base + c];
  }
  const rs = rstd[rstdOff + ${X}];
  return rs * rs * dot / ${C}cols;
}`,
};

/** dx + rstd·(w·dOut − x·k), rows×cols (the old dx is an input: the op accumulates). */
export const rmsBackDxSource: KernelSource = {
  name: 'rmsBackDx',
  src: `function (x, xOff, w, wOff, rstd, rstdOff, dOut, dOutOff, k, kOff, dx, dxOff) {
  const r = ${rowOf('cols')};
  const c = ${X} - r * ${C}cols;
  return dx[dxOff + ${X}] + rstd[rstdOff + r] * (w[wOff + c] * dOut[dOutOff + ${X}] - x[xOff + ${X}] * k[kOff + r]);
}`,
};

/** dw + Σ_r dOut·x·rstd over the rows, cols (the old dw is an input: the op accumulates). */
export const rmsBackDwSource: KernelSource = {
  name: 'rmsBackDw',
  src: `function (x, xOff, rstd, rstdOff, dOut, dOutOff, dw, dwOff) {
  let s = 0;
  for (let r = 0; r < ${C}rows; r++) {
    const i = r * ${C}cols + ${X};
    s += dOut[dOutOff + i] * x[xOff + i] * rstd[rstdOff + r];
  }
  return dw[dwOff + ${X}] + s;
}`,
};
