// Plain TypeScript loops: the readable statement of every op's semantics, a fallback that runs
// anywhere, and the proof that a non-gpu.js engine stands beside the others without touching
// model code.
import type { AdamWArgs, Engine, LstmBackwardArgs, LstmForwardArgs, MatmulArgs, SoftmaxXentArgs, Tensor } from '../engine-api.js';
import { type Backend, checkedEngine } from '../op-layer.js';
import * as cells from './js-cells.js';
import { JsInferPlan } from './js-infer-plan.js';

class JsTensor implements Tensor {
  readonly data: Float32Array;
  constructor(readonly size: number) {
    this.data = new Float32Array(size);
  }
}

const d = (t: Tensor): Float32Array => (t as JsTensor).data;
const jp = (p: unknown): JsInferPlan => {
  if (!(p instanceof JsInferPlan)) throw new TypeError('js engine: not an inference plan of this engine');
  return p;
};
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** The js engine behind the shared checks (../op-layer.ts). */
export function createJsEngine(): Engine {
  return checkedEngine(jsBackend());
}

function jsBackend(): Backend {
  return {
    name: 'js',
    tensor: (size) => new JsTensor(size),
    write: (t, data, off) => d(t).set(data, off),
    read: async (t, off, len) => d(t).slice(off, off + len),
    hostView: (t, off, len) => d(t).subarray(off, off + len),
    sync: async () => {},
    // Host arrays: the garbage collector takes a tensor once nothing refers to it.
    free: () => {},
    dispose: () => {},
    zero: ({ out, outOff, len }) => d(out).fill(0, outOff, outOff + len),
    copy: ({ dst, dstOff, src, srcOff, len }) => d(dst).set(d(src).subarray(srcOff, srcOff + len), dstOff),
    broadcastRow({ out, outOff, row, rowOff, rows, cols }) {
      const o = d(out), r = d(row).subarray(rowOff, rowOff + cols);
      for (let i = 0; i < rows; i++) o.set(r, outOff + i * cols);
    },
    sumRows({ out, outOff, x, xOff, rows, cols, accumulate }) {
      const o = d(out), xs = d(x);
      for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let i = 0; i < rows; i++) s += xs[xOff + i * cols + j];
        o[outOff + j] = accumulate ? o[outOff + j] + s : s;
      }
    },
    matmul,
    embedding({ out, outOff, table, tableOff, ids, idsOff, n, dim }) {
      const o = d(out), tb = d(table), id = d(ids);
      for (let i = 0; i < n; i++) {
        const r = tableOff + id[idsOff + i] * dim;
        o.set(tb.subarray(r, r + dim), outOff + i * dim);
      }
    },
    embeddingBackward({ dTable, dTableOff, dOut, dOutOff, ids, idsOff, n, dim }) {
      const g = d(dTable), go = d(dOut), id = d(ids);
      for (let i = 0; i < n; i++) {
        const r = dTableOff + id[idsOff + i] * dim;
        for (let j = 0; j < dim; j++) g[r + j] += go[dOutOff + i * dim + j];
      }
    },
    lstmForward,
    lstmBackward,
    softmaxXent,
    mul({ out, outOff, a, aOff, b, bOff, len }) {
      const o = d(out), A = d(a), B = d(b);
      for (let i = 0; i < len; i++) o[outOff + i] = A[aOff + i] * B[bOff + i];
    },
    add({ out, outOff, a, aOff, b, bOff, len }) {
      const o = d(out), A = d(a), B = d(b);
      for (let i = 0; i < len; i++) o[outOff + i] = A[aOff + i] + B[bOff + i];
    },
    tanhForward({ out, outOff, x, xOff, len }) {
      const o = d(out), X = d(x);
      for (let i = 0; i < len; i++) o[outOff + i] = Math.tanh(X[xOff + i]);
    },
    tanhBackward({ dx, dxOff, y, yOff, dy, dyOff, len }) {
      const o = d(dx), Y = d(y), G = d(dy);
      for (let i = 0; i < len; i++) o[dxOff + i] = G[dyOff + i] * (1 - Y[yOff + i] * Y[yOff + i]);
    },
    geluForward({ out, outOff, x, xOff, len, e, eOff }) {
      const o = d(out), X = d(x), E = e ? d(e) : null;
      for (let i = 0; i < len; i++) {
        o[outOff + i] = cells.gelu(X[xOff + i]);
        if (E) E[eOff + i] = cells.geluE(X[xOff + i]);
      }
    },
    geluBackward({ dx, dxOff, x, xOff, dy, dyOff, len, e, eOff }) {
      const o = d(dx), X = d(x), G = d(dy), E = e ? d(e) : null;
      for (let i = 0; i < len; i++) {
        o[dxOff + i] = G[dyOff + i] * (E ? cells.geluGradE(X[xOff + i], E[eOff + i]) : cells.geluGrad(X[xOff + i]));
      }
    },
    gruForward: (p) => cells.gruForward(d, p),
    gruBackward: (p) => cells.gruBackward(d, p),
    minScanForward: (p) => cells.minScanForward(d, p),
    minScanBackward: (p) => cells.minScanBackward(d, p),
    rmsNormForward: (p) => cells.rmsNormForward(d, p),
    rmsNormBackward: (p) => cells.rmsNormBackward(d, p),
    sumSquares({ out, outOff, x, xOff, len }) {
      const xs = d(x);
      let s = 0;
      for (let i = 0; i < len; i++) s += xs[xOff + i] * xs[xOff + i];
      d(out)[outOff] = s;
    },
    adamw,
    inferPrepare: (model, streams) => new JsInferPlan(model, d(model.params), streams),
    inferStep: (plan, ids, logits) => jp(plan).step(ids, logits),
    inferLogits: async (plan, out) => jp(plan).readLogits(out),
    inferReset: (plan) => jp(plan).reset(),
    inferReadState: async (plan) => jp(plan).readState(),
    inferWriteState: (plan, state) => jp(plan).writeState(state),
    inferRelease: () => {},
  };
}

function matmul({ c, cOff = 0, a, aOff = 0, b, bOff = 0, m, n, k, transA, transB, accumulate, bias, biasOff = 0 }: MatmulArgs): void {
  const C = d(c), A = d(a), B = d(b), R = bias ? d(bias) : null;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? A[aOff + p * m + i] : A[aOff + i * k + p];
        const bv = transB ? B[bOff + j * k + p] : B[bOff + p * n + j];
        s += av * bv;
      }
      const idx = cOff + i * n + j;
      if (R) s += R[biasOff + j];
      C[idx] = accumulate ? C[idx] + s : s;
    }
  }
}

function lstmForward(p: LstmForwardArgs): void {
  const pre = d(p.pre), act = d(p.act), cp = d(p.cPrev), c = d(p.c), h = d(p.h);
  const H = p.hidden, preOff = p.preOff ?? 0, actOff = p.actOff ?? 0;
  for (let b = 0; b < p.batch; b++) {
    const g0 = b * 4 * H;
    for (let j = 0; j < H; j++) {
      const i = sigmoid(pre[preOff + g0 + j]);
      const f = sigmoid(pre[preOff + g0 + H + j]);
      const g = Math.tanh(pre[preOff + g0 + 2 * H + j]);
      const o = sigmoid(pre[preOff + g0 + 3 * H + j]);
      act[actOff + g0 + j] = i; act[actOff + g0 + H + j] = f;
      act[actOff + g0 + 2 * H + j] = g; act[actOff + g0 + 3 * H + j] = o;
      const cv = f * cp[(p.cPrevOff ?? 0) + b * H + j] + i * g;
      c[(p.cOff ?? 0) + b * H + j] = cv;
      h[(p.hOff ?? 0) + b * H + j] = o * Math.tanh(cv);
    }
  }
}

function lstmBackward(p: LstmBackwardArgs): void {
  const act = d(p.act), cp = d(p.cPrev), c = d(p.c), dh = d(p.dh), dcn = d(p.dcNext), dPre = d(p.dPre), dcp = d(p.dcPrev);
  const H = p.hidden, actOff = p.actOff ?? 0, dPreOff = p.dPreOff ?? 0;
  for (let b = 0; b < p.batch; b++) {
    const g0 = b * 4 * H;
    for (let j = 0; j < H; j++) {
      const i = act[actOff + g0 + j], f = act[actOff + g0 + H + j];
      const g = act[actOff + g0 + 2 * H + j], o = act[actOff + g0 + 3 * H + j];
      const s = b * H + j;
      const tc = Math.tanh(c[(p.cOff ?? 0) + s]);
      const dhv = dh[(p.dhOff ?? 0) + s];
      const dcTot = dcn[(p.dcNextOff ?? 0) + s] + dhv * o * (1 - tc * tc);
      dPre[dPreOff + g0 + j] = dcTot * g * i * (1 - i);
      dPre[dPreOff + g0 + H + j] = dcTot * cp[(p.cPrevOff ?? 0) + s] * f * (1 - f);
      dPre[dPreOff + g0 + 2 * H + j] = dcTot * i * (1 - g * g);
      dPre[dPreOff + g0 + 3 * H + j] = dhv * tc * o * (1 - o);
      dcp[(p.dcPrevOff ?? 0) + s] = dcTot * f;
    }
  }
}

function softmaxXent(p: SoftmaxXentArgs): void {
  const L = d(p.logits), T = d(p.targets), loss = d(p.losses), V = p.vocab, scale = p.scale ?? 1;
  const lo = p.logitsOff ?? 0, dl = p.dLogits ? d(p.dLogits) : undefined, dlo = p.dLogitsOff ?? 0;
  for (let r = 0; r < p.rows; r++) {
    const base = lo + r * V;
    let mx = -Infinity;
    for (let j = 0; j < V; j++) mx = Math.max(mx, L[base + j]);
    let sum = 0;
    for (let j = 0; j < V; j++) sum += Math.exp(L[base + j] - mx);
    const t = T[(p.targetsOff ?? 0) + r];
    loss[(p.lossesOff ?? 0) + r] = Math.log(sum) + mx - L[base + t];
    if (dl) {
      for (let j = 0; j < V; j++) {
        dl[dlo + r * V + j] = (Math.exp(L[base + j] - mx) / sum - (j === t ? 1 : 0)) * scale;
      }
    }
  }
}

function adamw(p: AdamWArgs): void {
  const P = d(p.param), G = d(p.grad), M = d(p.m), V = d(p.v);
  const bc1 = 1 - Math.pow(p.beta1, p.step), bc2 = 1 - Math.pow(p.beta2, p.step);
  for (let i = p.off; i < p.off + p.len; i++) {
    const g = G[i] * p.gradScale;
    M[i] = p.beta1 * M[i] + (1 - p.beta1) * g;
    V[i] = p.beta2 * V[i] + (1 - p.beta2) * g * g;
    P[i] -= p.lr * p.weightDecay * P[i] + p.lr * (M[i] / bc1) / (Math.sqrt(V[i] / bc2) + p.eps);
  }
}
