// gpu.js kernel sources, one thread per output element over a flat 1-D output.
//
// Why strings and not functions: gpu.js re-parses the kernel's source text, and a TypeScript
// build (tsc, esbuild in vitest) may rewrite a function body into something its parser rejects;
// a string survives every build unchanged and lets a kernel be specialised by templating
// (transposes, accumulate) instead of branching at run time.
//
// Conventions every source follows:
// - every array argument comes with an offset argument (`xOff`): on the host the array is a view
//   of exactly the range read and the offset is 0; on a device the array is the tensor's whole
//   texture or buffer and the offset is real, so one compiled kernel serves every timestep;
// - shapes are kernel constants, so loop bounds are compile-time constants (GLSL needs that, and
//   gpu.js caps loops with argument bounds at loopMaxIterations);
// - a row index is floor((x + 0.5) / cols): the half keeps float division from rounding an exact
//   multiple down on GPUs with inexact division.

const C = 'this.constants.';
// gpu.js's GLSL tanh is (e^2x − 1)/(e^2x + 1), NaN once e^2x overflows (|x| > 44), and WGSL
// compilers have had the same bug; tanh(±15) already rounds to ±1 in float32, so clamping there
// changes no result.
export const tanh = (x: string): string => `Math.tanh(Math.min(Math.max(${x}, -15), 15))`;
export const rowOf = (cols: string): string => `Math.floor((this.thread.x + 0.5) / ${C}${cols})`;

export interface KernelSource {
  /** Cache key prefix: a source is fully determined by its name. */
  name: string;
  src: string;
}

export function matmulSource(transA: boolean, transB: boolean, accumulate: boolean, bias = false): KernelSource {
  const aIdx = transA ? `aOff + p * ${C}m + i` : `aOff + i * ${C}k + p`;
  const bIdx = transB ? `bOff + j * ${C}k + p` : `bOff + p * ${C}n + j`;
  return {
    name: `matmul${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}${accumulate ? '+' : ''}${bias ? 'b' : ''}`,
    src: `function (a, aOff, b, bOff${accumulate ? ', c, cOff' : ''}${bias ? ', r, rOff' : ''}) {
  const i = ${rowOf('n')};
  const j = this.thread.x - i * ${C}n;
  let s = 0;
  for (let p = 0; p < ${C}k; p++) {
    s += a[${aIdx}] * b[${bIdx}];
  }
  return s${bias ? ' + r[rOff + j]' : ''}${accumulate ? ' + c[cOff + this.thread.x]' : ''};
}`,
  };
}

/**
 * matmulSource with four neighbouring columns of C a thread ([C[i, j..j+3]], n a multiple of 4): a
 * read of A serves four products, five reads for four multiply-adds instead of eight.
 */
export function matmul4Source(transA: boolean, transB: boolean, accumulate: boolean, bias = false): KernelSource {
  // Indices walk by increments (gpu.js computes every index in float).
  const [aStart, aStep] = transA ? [`aOff + i`, `${C}m`] : [`aOff + i * ${C}k`, '1'];
  const [bStart, bStep] = transB ? [`bOff + j * ${C}k`, '1'] : [`bOff + j`, `${C}n`];
  const bIdx = (q: number): string => (q === 0 ? 'bq' : transB ? `bq + ${q} * ${C}k` : `bq + ${q}`);
  const tail = (q: number): string => `s${q}${bias ? ` + r[rOff + j + ${q}]` : ''}${accumulate ? ` + c[cOff + i * ${C}n + j + ${q}]` : ''}`;
  return {
    name: `matmul4${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}${accumulate ? '+' : ''}${bias ? 'b' : ''}`,
    src: `function (a, aOff, b, bOff${accumulate ? ', c, cOff' : ''}${bias ? ', r, rOff' : ''}) {
  const i = Math.floor((this.thread.x + 0.5) / ${C}n4);
  const j = 4 * (this.thread.x - i * ${C}n4);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let aq = ${aStart};
  let bq = ${bStart};
  for (let p = 0; p < ${C}k; p++) {
    const av = a[aq];
    s0 += av * b[${bIdx(0)}];
    s1 += av * b[${bIdx(1)}];
    s2 += av * b[${bIdx(2)}];
    s3 += av * b[${bIdx(3)}];
    aq += ${aStep};
    bq += ${bStep};
  }
  return [${[0, 1, 2, 3].map(tail).join(', ')}];
}`,
  };
}

export const mulSource: KernelSource = {
  name: 'mul',
  src: `function (a, aOff, b, bOff) {
  return a[aOff + this.thread.x] * b[bOff + this.thread.x];
}`,
};

export const broadcastRowSource: KernelSource = {
  name: 'broadcastRow',
  src: `function (row, rowOff) {
  const r = ${rowOf('cols')};
  return row[rowOff + this.thread.x - r * ${C}cols];
}`,
};

/** out[r, :] = x[r, :] + row[:] (a bias row added to every row). */
export const addRowSource: KernelSource = {
  name: 'addRow',
  src: `function (x, xOff, row, rowOff) {
  const r = ${rowOf('cols')};
  return x[xOff + this.thread.x] + row[rowOff + this.thread.x - r * ${C}cols];
}`,
};

export function sumRowsSource(accumulate: boolean): KernelSource {
  return {
    name: `sumRows${accumulate ? '+' : ''}`,
    src: `function (x, xOff${accumulate ? ', o, oOff' : ''}) {
  let s = 0;
  for (let r = 0; r < ${C}rows; r++) {
    s += x[xOff + r * ${C}cols + this.thread.x];
  }
  return s${accumulate ? ' + o[oOff + this.thread.x]' : ''};
}`,
  };
}

export const embeddingSource: KernelSource = {
  name: 'embedding',
  src: `function (table, tableOff, ids, idsOff) {
  const i = ${rowOf('dim')};
  const col = this.thread.x - i * ${C}dim;
  return table[tableOff + ids[idsOff + i] * ${C}dim + col];
}`,
};

// Scatter-add turned into a gather: each table element scans the ids for its own row, so no two
// threads write the same element. Costs vocab·dim·n reads, fine for character vocabularies.
export const embeddingBackwardSource: KernelSource = {
  name: 'embeddingBackward',
  src: `function (dTable, dTableOff, dOut, dOutOff, ids, idsOff) {
  const r = ${rowOf('dim')};
  const col = this.thread.x - r * ${C}dim;
  let s = dTable[dTableOff + this.thread.x];
  for (let i = 0; i < ${C}n; i++) {
    if (Math.abs(ids[idsOff + i] - r) < 0.5) {
      s += dOut[dOutOff + i * ${C}dim + col];
    }
  }
  return s;
}`,
};

/** embeddingBackwardSource with four neighbouring columns a thread (dim a multiple of 4): one id read for four. */
export const embeddingBackward4Source: KernelSource = {
  name: 'embeddingBackward4',
  src: `function (dTable, dTableOff, dOut, dOutOff, ids, idsOff) {
  const r = Math.floor((this.thread.x + 0.5) / ${C}dim4);
  const col = 4 * (this.thread.x - r * ${C}dim4);
  const base = dTableOff + r * ${C}dim + col;
  let s0 = dTable[base];
  let s1 = dTable[base + 1];
  let s2 = dTable[base + 2];
  let s3 = dTable[base + 3];
  for (let i = 0; i < ${C}n; i++) {
    if (Math.abs(ids[idsOff + i] - r) < 0.5) {
      const o = dOutOff + i * ${C}dim + col;
      s0 += dOut[o];
      s1 += dOut[o + 1];
      s2 += dOut[o + 2];
      s3 += dOut[o + 3];
    }
  }
  return [s0, s1, s2, s3];
}`,
};

/** Activated gates, batch×4H: tanh for the g block, sigmoid elsewhere. */
export const lstmActSource: KernelSource = {
  name: 'lstmAct',
  src: `function (pre, preOff) {
  const b = ${rowOf('h4')};
  const gate = Math.floor((this.thread.x - b * ${C}h4 + 0.5) / ${C}h);
  const v = pre[preOff + this.thread.x];
  let r = 0;
  if (gate === 2) {
    r = ${tanh('v')};
  } else {
    r = 1 / (1 + Math.exp(-v));
  }
  return r;
}`,
};

/** c = f·cPrev + i·g, reading the activated gates written by lstmAct. */
export const lstmCellSource: KernelSource = {
  name: 'lstmCell',
  src: `function (act, actOff, cPrev, cPrevOff) {
  const b = ${rowOf('h')};
  const base = actOff + b * ${C}h4 + this.thread.x - b * ${C}h;
  return act[base + ${C}h] * cPrev[cPrevOff + this.thread.x] + act[base] * act[base + 2 * ${C}h];
}`,
};

/** h = o·tanh(c). */
export const lstmHiddenSource: KernelSource = {
  name: 'lstmHidden',
  src: `function (act, actOff, c, cOff) {
  const b = ${rowOf('h')};
  const base = actOff + b * ${C}h4 + this.thread.x - b * ${C}h;
  return act[base + 3 * ${C}h] * ${tanh('c[cOff + this.thread.x]')};
}`,
};

/** Gradient w.r.t. the pre-activations, batch×4H, one gate block per branch. */
export const lstmBackPreSource: KernelSource = {
  name: 'lstmBackPre',
  src: `function (act, actOff, cPrev, cPrevOff, c, cOff, dh, dhOff, dcNext, dcNextOff) {
  const b = ${rowOf('h4')};
  const j = this.thread.x - b * ${C}h4;
  const gate = Math.floor((j + 0.5) / ${C}h);
  const u = j - gate * ${C}h;
  const base = actOff + b * ${C}h4 + u;
  const e = b * ${C}h + u;
  const ai = act[base];
  const af = act[base + ${C}h];
  const ag = act[base + 2 * ${C}h];
  const ao = act[base + 3 * ${C}h];
  const tc = ${tanh('c[cOff + e]')};
  const dhv = dh[dhOff + e];
  const dcTot = dcNext[dcNextOff + e] + dhv * ao * (1 - tc * tc);
  let r = 0;
  if (gate === 0) {
    r = dcTot * ag * ai * (1 - ai);
  } else if (gate === 1) {
    r = dcTot * cPrev[cPrevOff + e] * af * (1 - af);
  } else if (gate === 2) {
    r = dcTot * ai * (1 - ag * ag);
  } else {
    r = dhv * tc * ao * (1 - ao);
  }
  return r;
}`,
};

/** dcPrev = (dcNext + dh·o·(1 − tanh²c))·f. */
export const lstmBackCellSource: KernelSource = {
  name: 'lstmBackCell',
  src: `function (act, actOff, c, cOff, dh, dhOff, dcNext, dcNextOff) {
  const b = ${rowOf('h')};
  const base = actOff + b * ${C}h4 + this.thread.x - b * ${C}h;
  const tc = ${tanh('c[cOff + this.thread.x]')};
  const dcTot = dcNext[dcNextOff + this.thread.x] + dh[dhOff + this.thread.x] * act[base + 3 * ${C}h] * (1 - tc * tc);
  return dcTot * act[base + ${C}h];
}`,
};

/** Per-row log-sum-exp, max-subtracted so large logits cannot overflow exp. */
export const logSumExpSource: KernelSource = {
  name: 'logSumExp',
  src: `function (x, xOff) {
  const base = xOff + this.thread.x * ${C}vocab;
  let mx = x[base];
  for (let v = 1; v < ${C}vocab; v++) {
    mx = Math.max(mx, x[base + v]);
  }
  let s = 0;
  for (let v = 0; v < ${C}vocab; v++) {
    s += Math.exp(x[base + v] - mx);
  }
  return mx + Math.log(s);
}`,
};

export const xentLossSource: KernelSource = {
  name: 'xentLoss',
  src: `function (x, xOff, t, tOff, lse) {
  return lse[this.thread.x] - x[xOff + this.thread.x * ${C}vocab + t[tOff + this.thread.x]];
}`,
};

export const xentGradSource: KernelSource = {
  name: 'xentGrad',
  src: `function (x, xOff, t, tOff, lse, scale) {
  const r = ${rowOf('vocab')};
  const v = this.thread.x - r * ${C}vocab;
  let g = Math.exp(x[xOff + this.thread.x] - lse[r]);
  if (Math.abs(t[tOff + r] - v) < 0.5) {
    g = g - 1;
  }
  return g * scale;
}`,
};

/** Partial sums of squares over `chunk`-element blocks. */
export const sumSquaresPartialSource: KernelSource = {
  name: 'sumSquaresPartial',
  src: `function (x, xOff) {
  const base = this.thread.x * ${C}chunk;
  let s = 0;
  for (let q = 0; q < ${C}chunk; q++) {
    if (base + q < ${C}len) {
      const v = x[xOff + base + q];
      s += v * v;
    }
  }
  return s;
}`,
};

export const sumSource: KernelSource = {
  name: 'sum',
  src: `function (p) {
  let s = 0;
  for (let q = 0; q < ${C}len; q++) {
    s += p[q];
  }
  return s;
}`,
};

export const addSource: KernelSource = {
  name: 'add',
  src: `function (a, b) {
  return a[0] + b[0];
}`,
};

// AdamW runs as three passes (m, then v, then the parameter reading the new m and v) because a
// gpu.js kernel has one output and kernel maps are unsupported on the webasm backend. `onDevice`
// kernels take the squared gradient norm and the clip threshold instead of a host scale: the
// scale is min(1, clip/norm), and a non-finite norm leaves every value as it was (NaN fails <).
const clipScale = `
  const nrm = Math.sqrt(nsq[nsqOff]);
  let gradScale = 1;
  if (clip > 0 && nrm > clip) {
    gradScale = clip / nrm;
  }`;
const finite = 'nrm < 3.0e38';

export function adamMSource(onDevice: boolean): KernelSource {
  const update = `beta1 * m[mOff + this.thread.x] + (1 - beta1) * (g[gOff + this.thread.x] * gradScale)`;
  return {
    name: `adamM${onDevice ? 'Dev' : ''}`,
    src: onDevice
      ? `function (g, gOff, m, mOff, beta1, nsq, nsqOff, clip) {${clipScale}
  let res = m[mOff + this.thread.x];
  if (${finite}) {
    res = ${update};
  }
  return res;
}`
      : `function (g, gOff, m, mOff, beta1, gradScale) {
  return ${update};
}`,
  };
}

export function adamVSource(onDevice: boolean): KernelSource {
  const update = `beta2 * v[vOff + this.thread.x] + (1 - beta2) * gs * gs`;
  return {
    name: `adamV${onDevice ? 'Dev' : ''}`,
    src: onDevice
      ? `function (g, gOff, v, vOff, beta2, nsq, nsqOff, clip) {${clipScale}
  let res = v[vOff + this.thread.x];
  if (${finite}) {
    const gs = g[gOff + this.thread.x] * gradScale;
    res = ${update};
  }
  return res;
}`
      : `function (g, gOff, v, vOff, beta2, gradScale) {
  const gs = g[gOff + this.thread.x] * gradScale;
  return ${update};
}`,
  };
}

/** `masked`: weight decay times decay[i] (1 for matrices, 0 elsewhere) for whole-buffer calls. */
export function adamParamSource(onDevice: boolean, masked: boolean): KernelSource {
  const decay = masked ? 'decay * dm[dmOff + this.thread.x]' : 'decay';
  const update = `const p1 = p[pOff + this.thread.x] - lr * ${decay} * p[pOff + this.thread.x];
  const mhat = m[mOff + this.thread.x] / bc1;
  const vhat = v[vOff + this.thread.x] / bc2;`;
  const params = `p, pOff, m, mOff, v, vOff, lr, decay, bc1, bc2, eps${masked ? ', dm, dmOff' : ''}`;
  return {
    name: `adamParam${onDevice ? 'Dev' : ''}${masked ? 'Mask' : ''}`,
    src: onDevice
      ? `function (${params}, nsq, nsqOff, clip) {
  const nrm = Math.sqrt(nsq[nsqOff]);
  let res = p[pOff + this.thread.x];
  if (${finite}) {
    ${update}
    res = p1 - lr * mhat / (Math.sqrt(vhat) + eps);
  }
  return res;
}`
      : `function (${params}) {
  ${update}
  return p1 - lr * mhat / (Math.sqrt(vhat) + eps);
}`,
  };
}

// Device-mode storage kernels: tensors live in textures/buffers, so filling, uploading and
// writing a range into a larger tensor are kernels too.
export const fillSource: KernelSource = {
  name: 'fill',
  src: `function (value) {
  return value;
}`,
};

export const uploadSource: KernelSource = {
  name: 'upload',
  src: `function (data) {
  return data[this.thread.x];
}`,
};

/** dst with [off, off+len) replaced by src[srcOff, srcOff+len). */
export const spliceSource: KernelSource = {
  name: 'splice',
  src: `function (dst, src, off, srcOff) {
  const i = this.thread.x;
  let r = 0;
  if (i >= off && i < off + ${C}len) {
    r = src[srcOff + i - off];
  } else {
    r = dst[i];
  }
  return r;
}`,
};
