// The WebAssembly SIMD engine against straightforward loops written here, against the gpu.js
// cpu-mode engine, and against itself across thread counts.
//
// Tolerances:
// - matmul, sumRows, zero, copy, broadcastRow, embedding and embeddingBackward: exact (tolerance 0)
//   against float32 loops that add in the same order (each C element is the plain sequential
//   float32 sum over k; the kernels keep that order whatever the blocking or the thread split).
// - lstmForward/lstmBackward, softmaxXent, adamw: 2e-6 relative + 5e-7 absolute against float64
//   loops (polynomial exp and float32 arithmetic; the errors measured are about 1e-7).
// - sumSquares: accumulated in float64, so within 1e-7 relative of the float64 sum.
// - 1 thread vs 2 threads: bit-identical for every op.
// - simd vs gpu.js cpu: 1e-5 × Σ|terms| + 1e-6 for sums, 1e-5 relative + 1e-6 elsewhere.
// Two-thread engines are made with forceParallel so even tiny odd shapes run split across threads.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, Tensor } from '../src/engine/engine.js';
import { createGpuJsEngine } from '../src/engine/gpujs/index.js';
import { createJsEngine } from '../src/engine/js/engine.js';
import { createSimdEngine } from '../src/engine/simd/engine.js';
import { packageRoot } from '../src/text/package-root.js';
import { prng } from './support.js';

const f = Math.fround;
/** Tolerance of the ops checked against float64 loops (measured errors are about 1e-7). */
const REL = 2e-6, ABS = 5e-7;

const rng = prng(7);
const rand = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (rng() * 2 - 1) * scale);
const ids = (n: number, limit: number) => Float32Array.from({ length: n }, () => Math.floor(rng() * limit));

// Reference loops: float32 with the kernels' summation order where the result is exact, float64
// for the transcendental ops.
const ref = {
  matmul(A: Float32Array, B: Float32Array, C0: Float32Array, m: number, n: number, k: number,
    transA: boolean, transB: boolean, accumulate: boolean): Float32Array {
    const C = new Float32Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = accumulate ? C0[i * n + j] : 0;
      for (let p = 0; p < k; p++) {
        s = f(s + f((transA ? A[p * m + i] : A[i * k + p]) * (transB ? B[j * k + p] : B[p * n + j])));
      }
      C[i * n + j] = s;
    }
    return C;
  },
  sumRows(X: Float32Array, O: Float32Array, rows: number, cols: number, acc: boolean): Float32Array {
    const out = acc ? Float32Array.from(O) : new Float32Array(cols);
    for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) out[j] = f(out[j] + X[r * cols + j]);
    return out;
  },
  embeddingBackward(G: Float32Array, D: Float32Array, I: Float32Array, n: number, dim: number): Float32Array {
    const out = Float32Array.from(G);
    for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) out[I[i] * dim + j] = f(out[I[i] * dim + j] + D[i * dim + j]);
    return out;
  },
  lstmForward(P: Float32Array, CP: Float32Array, batch: number, H: number) {
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const act = new Float64Array(4 * batch * H), c = new Float64Array(batch * H), h = new Float64Array(batch * H);
    for (let r = 0; r < batch; r++) for (let j = 0; j < H; j++) {
      const g0 = r * 4 * H + j;
      const i = sig(P[g0]), fg = sig(P[g0 + H]), g = Math.tanh(P[g0 + 2 * H]), o = sig(P[g0 + 3 * H]);
      act[g0] = i; act[g0 + H] = fg; act[g0 + 2 * H] = g; act[g0 + 3 * H] = o;
      c[r * H + j] = fg * CP[r * H + j] + i * g;
      h[r * H + j] = o * Math.tanh(c[r * H + j]);
    }
    return { act, c, h };
  },
  lstmBackward(A: Float32Array, CP: Float32Array, C: Float32Array, DH: Float32Array, DCN: Float32Array, batch: number, H: number) {
    const dPre = new Float64Array(4 * batch * H), dcPrev = new Float64Array(batch * H);
    for (let r = 0; r < batch; r++) for (let j = 0; j < H; j++) {
      const g0 = r * 4 * H + j, q = r * H + j;
      const i = A[g0], fg = A[g0 + H], g = A[g0 + 2 * H], o = A[g0 + 3 * H];
      const tc = Math.tanh(C[q]), dO = DH[q] * tc, dc = DCN[q] + DH[q] * o * (1 - tc * tc);
      dPre[g0] = dc * g * i * (1 - i);
      dPre[g0 + H] = dc * CP[q] * fg * (1 - fg);
      dPre[g0 + 2 * H] = dc * i * (1 - g * g);
      dPre[g0 + 3 * H] = dO * o * (1 - o);
      dcPrev[q] = dc * fg;
    }
    return { dPre, dcPrev };
  },
  softmaxXent(L: Float32Array, T: Float32Array, rows: number, vocab: number, scale: number) {
    const losses = new Float64Array(rows), dLogits = new Float64Array(rows * vocab);
    for (let r = 0; r < rows; r++) {
      const x = L.subarray(r * vocab, (r + 1) * vocab);
      const mx = Math.max(...x);
      let sum = 0;
      for (const v of x) sum += Math.exp(v - mx);
      losses[r] = Math.log(sum) - (x[T[r]] - mx);
      for (let j = 0; j < vocab; j++) dLogits[r * vocab + j] = (Math.exp(x[j] - mx) / sum - (j === T[r] ? 1 : 0)) * scale;
    }
    return { losses, dLogits };
  },
  adamw(P: Float32Array, G: Float32Array, M: Float32Array, V: Float32Array, off: number, len: number,
    o: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; step: number; gradScale: number }) {
    const p = Float64Array.from(P), m = Float64Array.from(M), v = Float64Array.from(V);
    for (let i = off; i < off + len; i++) {
      p[i] -= o.lr * o.weightDecay * p[i];
      const g = G[i] * o.gradScale;
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g;
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g * g;
      p[i] -= o.lr * (m[i] / (1 - o.beta1 ** o.step)) / (Math.sqrt(v[i] / (1 - o.beta2 ** o.step)) + o.eps);
    }
    return { p, m, v };
  },
};

function expectExact(got: Float32Array, want: ArrayLike<number>, what = ''): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], f(want[i]))) throw new Error(`${what} element ${i}: got ${got[i]}, want ${want[i]}`);
  }
}

function expectClose(got: Float32Array, want: ArrayLike<number>, rel = 1e-5, abs = 1e-6, bound?: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const lim = rel * Math.abs(bound ? bound[i] : want[i]) + abs;
    if (!(Math.abs(got[i] - want[i]) <= lim)) throw new Error(`element ${i}: got ${got[i]}, want ${want[i]} (±${lim})`);
  }
}

/** A tensor holding `data` at offset `pad`, with `pad` junk floats on both sides. */
function put(e: Engine, data: Float32Array, pad = 3): [Tensor, number] {
  const t = e.tensor(data.length + 2 * pad);
  e.write(t, rand(pad, 9), 0);
  e.write(t, data, pad);
  e.write(t, rand(pad, 9), pad + data.length);
  return [t, pad];
}

const MATMUL_SHAPES: [number, number, number][] = [
  [1, 1, 1], [3, 5, 7], [4, 8, 4], [5, 9, 3], [13, 17, 19], [37, 29, 45], [8, 40, 16],
  [5, 530, 31], [70, 9, 30], [64, 65, 257], [33, 270, 300], [2, 3, 0],
];

/**
 * Runs `op` on engines x and y over the same inputs and compares the listed output tensors; on a
 * mismatch the js reference engine's value is named too, to tell which side is off.
 */
async function sameOn(x: Engine, y: Engine, inputs: Float32Array[], outputs: number[], op: (e: Engine, t: Tensor[]) => void,
  rel: number, abs: number, bound?: (i: number) => ArrayLike<number> | undefined): Promise<void> {
  const run = async (e: Engine) => {
    const t = inputs.map((v) => { const u = e.tensor(v.length + 3); e.write(u, v, 0); return u; });
    op(e, t);
    return Promise.all(outputs.map((i) => e.read(t[i], 0, inputs[i].length)));
  };
  const [a, b] = [await run(x), await run(y)];
  for (let j = 0; j < outputs.length; j++) {
    try {
      expectClose(a[j], b[j], rel, abs, bound?.(outputs[j]));
    } catch (err) {
      const ref = (await run(createJsEngine()))[j];
      const i = Number(/element (\d+)/.exec((err as Error).message)?.[1] ?? 0);
      throw new Error(`output tensor ${outputs[j]}: ${(err as Error).message}; js reference engine: ${ref[i]}`);
    }
  }
}

/** One case per new-style op: inputs, which tensors are outputs, and the call. */
function cellCases(): { name: string; inputs: Float32Array[]; outputs: number[]; op: (e: Engine, t: Tensor[]) => void }[] {
  const B = 3, H = 13, S = 5, R = 7, Cc = 19, L = 103;
  const act3 = Float32Array.from(rand(3 * B * H), (v) => (v + 1) / 2);
  const scanAct = (w: number) => Float32Array.from(rand(S * w * B * H), (v) => (v + 1) / 2);
  return [
    { name: 'add in place', inputs: [rand(L), rand(L)], outputs: [0], op: (e, [a, b]) => e.add({ out: a, outOff: 1, a, aOff: 1, b, len: L - 2 }) },
    { name: 'tanhForward', inputs: [rand(L, 4), new Float32Array(L)], outputs: [1], op: (e, [x, o]) => e.tanhForward({ out: o, outOff: 2, x, xOff: 1, len: L - 2 }) },
    { name: 'tanhBackward in place', inputs: [rand(L), rand(L)], outputs: [1], op: (e, [y, d]) => e.tanhBackward({ dx: d, y, dy: d, len: L }) },
    { name: 'geluForward', inputs: [rand(L, 5), new Float32Array(L)], outputs: [1], op: (e, [x, o]) => e.geluForward({ out: o, x, len: L }) },
    { name: 'geluBackward in place', inputs: [rand(L, 5), rand(L)], outputs: [1], op: (e, [x, d]) => e.geluBackward({ dx: d, dxOff: 1, x, xOff: 1, dy: d, dyOff: 1, len: L - 1 }) },
    { name: 'gruForward', inputs: [rand(3 * B * H, 3), rand(3 * B * H, 3), rand(B * H), new Float32Array(3 * B * H), new Float32Array(B * H)],
      outputs: [3, 4], op: (e, [gx, gh, hPrev, act, h]) => e.gruForward({ gx, gh, hPrev, act, h, batch: B, hidden: H }) },
    { name: 'gruBackward', inputs: [act3, rand(3 * B * H), rand(B * H), rand(B * H), new Float32Array(3 * B * H), new Float32Array(3 * B * H), rand(B * H)],
      outputs: [4, 5, 6], op: (e, [act, gh, hPrev, dh, dGx, dGh, dhPrev]) => e.gruBackward({ act, gh, hPrev, dh, dGx, dGh, dhPrev, batch: B, hidden: H }) },
    ...(['mingru', 'minlstm'] as const).flatMap((cell) => {
      const w = cell === 'mingru' ? 2 : 3;
      return [
        { name: `minScanForward ${cell}`, inputs: [rand(S * w * B * H, 3), new Float32Array(S * w * B * H), rand((S + 1) * B * H)], outputs: [1, 2],
          op: (e: Engine, [proj, act, h]: Tensor[]) => e.minScanForward({ cell, proj, act, h, steps: S, batch: B, hidden: H }) },
        { name: `minScanBackward ${cell}`, inputs: [rand(S * w * B * H, 3), scanAct(w), rand((S + 1) * B * H), rand(S * B * H), new Float32Array(S * w * B * H)],
          outputs: [4], op: (e: Engine, [proj, act, h, dh, dProj]: Tensor[]) => e.minScanBackward({ cell, proj, act, h, dh, dProj, steps: S, batch: B, hidden: H }) },
      ];
    }),
    { name: 'rmsNormForward', inputs: [rand(R * Cc, 2), rand(Cc), new Float32Array(R * Cc), new Float32Array(R)], outputs: [2, 3],
      op: (e, [x, w, out, rstd]) => e.rmsNormForward({ x, w, out, rstd, rows: R, cols: Cc, eps: 1e-5 }) },
    { name: 'rmsNormBackward', inputs: [rand(R * Cc, 2), rand(Cc), Float32Array.from(rand(R), (v) => 1 + Math.abs(v)), rand(R * Cc), rand(R * Cc), rand(Cc)],
      outputs: [4, 5], op: (e, [x, w, rstd, dOut, dx, dw]) => e.rmsNormBackward({ x, w, rstd, dOut, dx, dw, rows: R, cols: Cc }) },
  ];
}

describe.each([1, 2])('simd engine with %i thread(s) against float32 loops', (threads) => {
  let e: Engine;
  beforeAll(async () => {
    e = await createSimdEngine({ threads, forceParallel: true });
  });
  afterAll(() => e.dispose());

  it('is named simd and zero-fills, writes, reads, zeroes, copies', async () => {
    expect(e.name).toBe('simd');
    const t = e.tensor(300);
    expectExact(await e.read(t), new Float32Array(300));
    const x = rand(300);
    e.write(t, x);
    e.zero({ out: t, outOff: 5, len: 201 });
    const want = Float32Array.from(x); want.fill(0, 5, 206);
    expectExact(await e.read(t), want);
    const u = e.tensor(250);
    e.copy({ dst: u, dstOff: 7, src: t, srcOff: 3, len: 241 });
    const w2 = new Float32Array(250); w2.set(want.subarray(3, 244), 7);
    expectExact(await e.read(u), w2);
    expectExact(await e.read(u, 9, 3), w2.subarray(9, 12));
    await e.sync();
  });

  it('mul, out of place and in place on either operand', async () => {
    for (const len of [1, 3, 4, 67, 1001]) {
      const A = rand(len), B = rand(len), want = A.map((v, i) => f(v * B[i]));
      const [a, aOff] = put(e, A, 2), [b, bOff] = put(e, B, 1), [o, oOff] = put(e, new Float32Array(len), 4);
      e.mul({ out: o, outOff: oOff, a, aOff, b, bOff, len });
      expectExact(await e.read(o, oOff, len), want);
      e.mul({ out: a, outOff: aOff, a, aOff, b, bOff, len });
      expectExact(await e.read(a, aOff, len), want);
      e.mul({ out: b, outOff: bOff, a, aOff, b, bOff, len });
      expectExact(await e.read(b, bOff, len), want.map((v, i) => f(v * B[i])));
    }
  });

  for (const [m, n, k] of MATMUL_SHAPES) {
    for (const transA of [false, true]) for (const transB of [false, true]) for (const accumulate of [false, true]) {
      it(`matmul ${m}x${n}x${k} transA=${transA} transB=${transB} accumulate=${accumulate}`, async () => {
        const A = rand(m * k), B = rand(k * n), C0 = rand(m * n);
        const [a, aOff] = put(e, A, 1), [b, bOff] = put(e, B, 5), [c, cOff] = put(e, C0, 2);
        e.matmul({ c, cOff, a, aOff, b, bOff, m, n, k, transA, transB, accumulate });
        expectExact(await e.read(c, cOff, m * n), ref.matmul(A, B, C0, m, n, k, transA, transB, accumulate));
      });
    }
  }

  it('matmul leaves memory outside C untouched', async () => {
    const m = 7, n = 13, k = 5;
    const [c, cOff] = put(e, rand(m * n), 4);
    const before = await e.read(c);
    const [a, aOff] = put(e, rand(m * k)), [b, bOff] = put(e, rand(k * n));
    e.matmul({ c, cOff, a, aOff, b, bOff, m, n, k });
    const after = await e.read(c);
    expectExact(after.subarray(0, cOff), before.subarray(0, cOff));
    expectExact(after.subarray(cOff + m * n), before.subarray(cOff + m * n));
  });

  it('broadcastRow and sumRows (with and without accumulate) at odd sizes', async () => {
    for (const [rows, cols] of [[1, 1], [3, 5], [7, 19], [33, 67], [5, 260]]) {
      const R = rand(cols);
      const [row, rOff] = put(e, R);
      const [out, oOff] = put(e, rand(rows * cols));
      e.broadcastRow({ out, outOff: oOff, row, rowOff: rOff, rows, cols });
      const want = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) want.set(R, r * cols);
      expectExact(await e.read(out, oOff, rows * cols), want);

      const X = rand(rows * cols), O = rand(cols);
      const [x, xOff] = put(e, X);
      for (const acc of [false, true]) {
        const [s, sOff] = put(e, O);
        e.sumRows({ out: s, outOff: sOff, x, xOff, rows, cols, accumulate: acc });
        expectExact(await e.read(s, sOff, cols), ref.sumRows(X, O, rows, cols, acc));
      }
    }
  });

  it('embedding and embeddingBackward, colliding ids included', async () => {
    for (const [n, dim, vocab] of [[1, 1, 1], [9, 7, 5], [40, 64, 65], [33, 13, 3]]) {
      const T = rand(vocab * dim), I = ids(n, vocab);
      const [table, tOff] = put(e, T), [idt, iOff] = put(e, I);
      const [out, oOff] = put(e, rand(n * dim));
      e.embedding({ out, outOff: oOff, table, tableOff: tOff, ids: idt, idsOff: iOff, n, dim });
      const want = new Float32Array(n * dim);
      for (let i = 0; i < n; i++) want.set(T.subarray(I[i] * dim, (I[i] + 1) * dim), i * dim);
      expectExact(await e.read(out, oOff, n * dim), want);

      const G = rand(vocab * dim), D = rand(n * dim);
      const [g, gOff] = put(e, G), [dOut, dOff] = put(e, D);
      e.embeddingBackward({ dTable: g, dTableOff: gOff, dOut, dOutOff: dOff, ids: idt, idsOff: iOff, n, dim, vocab });
      expectExact(await e.read(g, gOff, vocab * dim), ref.embeddingBackward(G, D, I, n, dim));
    }
  });

  it('lstmForward and lstmBackward at odd hidden sizes', async () => {
    for (const [batch, hidden] of [[1, 1], [3, 5], [2, 13], [5, 36]]) {
      const P = rand(4 * batch * hidden, 6), CP = rand(batch * hidden, 2);
      const [pre, pOff] = put(e, P), [cPrev, cpOff] = put(e, CP);
      const [act, aOff] = put(e, new Float32Array(4 * batch * hidden));
      const [c, cOff] = put(e, new Float32Array(batch * hidden)), [h, hOff] = put(e, new Float32Array(batch * hidden));
      e.lstmForward({ pre, preOff: pOff, act, actOff: aOff, cPrev, cPrevOff: cpOff, c, cOff, h, hOff, batch, hidden });
      const fw = ref.lstmForward(P, CP, batch, hidden);
      const ACT = await e.read(act, aOff, 4 * batch * hidden), C = await e.read(c, cOff, batch * hidden);
      expectClose(ACT, fw.act, REL, ABS);
      expectClose(C, fw.c, REL, ABS);
      expectClose(await e.read(h, hOff, batch * hidden), fw.h, REL, ABS);

      const DH = rand(batch * hidden), DCN = rand(batch * hidden);
      const [dh, dhOff] = put(e, DH), [dcNext, dcnOff] = put(e, DCN);
      const [dPre, dpOff] = put(e, new Float32Array(4 * batch * hidden)), [dcPrev, dcpOff] = put(e, new Float32Array(batch * hidden));
      e.lstmBackward({ act, actOff: aOff, cPrev, cPrevOff: cpOff, c, cOff, dh, dhOff, dcNext, dcNextOff: dcnOff,
        dPre, dPreOff: dpOff, dcPrev, dcPrevOff: dcpOff, batch, hidden });
      const bw = ref.lstmBackward(ACT, CP, C, DH, DCN, batch, hidden);
      expectClose(await e.read(dPre, dpOff, 4 * batch * hidden), bw.dPre, REL, ABS);
      expectClose(await e.read(dcPrev, dcpOff, batch * hidden), bw.dcPrev, REL, ABS);
    }
  });

  it('softmaxXent with and without dLogits, odd vocab sizes, large logits', async () => {
    for (const [rows, vocab, scale] of [[1, 1, 1], [3, 2, 0.5], [7, 65, 1 / 7], [4, 13, 2], [2, 300, 1]]) {
      const L = rand(rows * vocab, 30), T = ids(rows, vocab);
      const [logits, lOff] = put(e, L), [targets, tOff] = put(e, T), [losses, sOff] = put(e, new Float32Array(rows));
      const [dl, dOff] = put(e, new Float32Array(rows * vocab));
      e.softmaxXent({ logits, logitsOff: lOff, targets, targetsOff: tOff, losses, lossesOff: sOff, rows, vocab });
      const want = ref.softmaxXent(L, T, rows, vocab, scale);
      expectClose(await e.read(losses, sOff, rows), want.losses, REL, ABS);
      e.softmaxXent({ logits, logitsOff: lOff, targets, targetsOff: tOff, losses, lossesOff: sOff, dLogits: dl, dLogitsOff: dOff, rows, vocab, scale });
      expectClose(await e.read(losses, sOff, rows), want.losses, REL, ABS);
      expectClose(await e.read(dl, dOff, rows * vocab), want.dLogits, REL, ABS);
    }
  });

  it('sumSquares over lengths around the chunk size and the SIMD width', async () => {
    for (const len of [0, 1, 3, 4, 7, 4095, 4096, 4097, 10001]) {
      const X = rand(len, 3);
      const [x, xOff] = put(e, X), [out, oOff] = put(e, new Float32Array(1));
      e.sumSquares({ out, outOff: oOff, x, xOff, len });
      let s = 0;
      for (const v of X) s += v * v;
      expectClose(await e.read(out, oOff, 1), [s], 1e-7, 0);
    }
  });

  it('adamw over an offset range of odd length, other elements untouched', async () => {
    const len = 37, pad = 5, total = len + 2 * pad;
    const P = rand(total), G = rand(total), M = rand(total, 0.1), V = rand(total, 0.01).map(Math.abs);
    const ts = [P, G, M, V].map((x) => put(e, x, 0)[0]);
    const args = { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: 3, gradScale: 0.5 };
    e.adamw({ param: ts[0], grad: ts[1], m: ts[2], v: ts[3], off: pad, len, ...args });
    const want = ref.adamw(P, G, M, V, pad, len, args);
    expectClose(await e.read(ts[0]), want.p, REL, ABS);
    expectClose(await e.read(ts[2]), want.m, REL, ABS);
    expectClose(await e.read(ts[3]), want.v, REL, ABS);
    expectExact(await e.read(ts[1]), G);
  });
});

describe.each([1, 2])('simd engine with %i thread(s) against the js reference engine (float64 math)', (threads) => {
  let e: Engine;
  const js = createJsEngine();
  beforeAll(async () => {
    e = await createSimdEngine({ threads, forceParallel: true });
  });
  afterAll(() => e.dispose());

  for (const c of cellCases()) {
    it(c.name, () => sameOn(e, js, c.inputs, c.outputs, c.op, REL, ABS));
  }
});

describe('simd engine: 1 thread and 2 threads agree bit for bit', () => {
  let one: Engine, two: Engine, forced1: Engine, forced2: Engine;
  beforeAll(async () => {
    one = await createSimdEngine({ threads: 1 });
    two = await createSimdEngine({ threads: 2 });
    forced1 = await createSimdEngine({ threads: 1, forceParallel: true });
    forced2 = await createSimdEngine({ threads: 2, forceParallel: true });
  });
  afterAll(() => { one.dispose(); two.dispose(); forced1.dispose(); forced2.dispose(); });

  async function both(run: (e: Engine) => Promise<Float32Array>): Promise<void> {
    const [x, y] = [await run(one), await run(two)];
    expectExact(y, x);
  }

  it('matmul at training shapes, all transposes', async () => {
    const shapes: [number, number, number, boolean, boolean][] = [
      [32, 1024, 256, false, false], [512, 1024, 256, false, false], [256, 1024, 512, true, false], [512, 256, 1024, false, true],
      [1024, 65, 256, false, false],
    ];
    for (const [m, n, k, transA, transB] of shapes) {
      const A = rand(m * k), B = rand(k * n), C0 = rand(m * n);
      await both(async (e) => {
        const [a] = put(e, A, 0), [b] = put(e, B, 0), [c] = put(e, C0, 0);
        e.matmul({ c, a, b, m, n, k, transA, transB, accumulate: true });
        return e.read(c);
      });
    }
  });

  it('every gated-cell, norm and activation op', async () => {
    for (const c of cellCases()) {
      const run = async (e: Engine) => {
        const t = c.inputs.map((v) => put(e, v, 0)[0]);
        c.op(e, t);
        return Promise.all(c.outputs.map((i) => e.read(t[i])));
      };
      const [x, y] = [await run(forced1), await run(forced2)];
      x.forEach((v, j) => expectExact(y[j], v, c.name));
    }
  });

  it('sumSquares of a million floats, lstm, softmax', async () => {
    const X = rand(1_000_003, 2);
    await both(async (e) => {
      const [x] = put(e, X, 0), out = e.tensor(1);
      e.sumSquares({ out, x, len: X.length });
      return e.read(out);
    });
    const P = rand(32 * 4 * 256, 5);
    await both(async (e) => {
      const [pre] = put(e, P, 0), act = e.tensor(P.length), cPrev = e.tensor(32 * 256), c = e.tensor(32 * 256), h = e.tensor(32 * 256);
      e.lstmForward({ pre, act, cPrev, c, h, batch: 32, hidden: 256 });
      return e.read(h);
    });
    const L = rand(512 * 65, 10), T = ids(512, 65);
    await both(async (e) => {
      const [logits] = put(e, L, 0), [targets] = put(e, T, 0), losses = e.tensor(512), dLogits = e.tensor(L.length);
      e.softmaxXent({ logits, targets, losses, dLogits, rows: 512, vocab: 65, scale: 1 / 512 });
      return e.read(dLogits);
    });
  });
});

describe('simd engine against the gpu.js cpu-mode engine on random inputs', () => {
  let s: Engine, g: Engine;
  beforeAll(async () => {
    s = await createSimdEngine({ threads: 2, forceParallel: true });
    g = await createGpuJsEngine('cpu');
  });
  afterAll(() => { s.dispose(); g.dispose(); });

  const compare = (inputs: Float32Array[], outputs: number[], op: (e: Engine, t: Tensor[]) => void,
    bound?: (i: number) => ArrayLike<number> | undefined) => sameOn(s, g, inputs, outputs, op, 1e-5, 1e-6, bound);

  it('matmul, every transpose and accumulate variant, odd sizes', async () => {
    for (const [m, n, k] of [[3, 5, 7], [13, 17, 19], [37, 29, 45], [9, 70, 33]]) {
      for (const transA of [false, true]) for (const transB of [false, true]) {
        const A = rand(m * k), B = rand(k * n), C0 = rand(m * n);
        const absBound = ref.matmul(A.map(Math.abs), B.map(Math.abs), C0.map(Math.abs), m, n, k, transA, transB, true);
        await compare([A, B, C0], [2], (e, [a, b, c]) => e.matmul({ c, a, b, m, n, k, transA, transB, accumulate: true }), () => absBound);
      }
    }
  });

  for (const c of cellCases()) {
    it(`${c.name}`, () => compare(c.inputs, c.outputs, c.op));
  }

  it('pointwise ops, reductions, embedding, softmax, adamw', async () => {
    const rows = 7, cols = 19, vocab = 11, batch = 3, hidden = 9;
    await compare([rand(cols), new Float32Array(rows * cols)], [1], (e, [r, o]) => e.broadcastRow({ out: o, row: r, rows, cols }));
    const X = rand(rows * cols);
    await compare([X, rand(cols)], [1], (e, [x, o]) => e.sumRows({ out: o, x, rows, cols, accumulate: true }), () => ref.sumRows(X.map(Math.abs), new Float32Array(cols), rows, cols, false));
    const I = ids(rows, vocab);
    await compare([rand(vocab * cols), I, new Float32Array(rows * cols)], [2], (e, [t, i, o]) => e.embedding({ out: o, table: t, ids: i, n: rows, dim: cols }));
    await compare([rand(vocab * cols), rand(rows * cols), I], [0], (e, [t, d, i]) => e.embeddingBackward({ dTable: t, dOut: d, ids: i, n: rows, dim: cols, vocab }), () => new Float32Array(vocab * cols).fill(rows * 2));
    await compare([rand(4 * batch * hidden, 4), rand(batch * hidden), new Float32Array(4 * batch * hidden), new Float32Array(batch * hidden), new Float32Array(batch * hidden)],
      [2, 3, 4], (e, [pre, cPrev, act, c, h]) => e.lstmForward({ pre, act, cPrev, c, h, batch, hidden }));
    const act = Float32Array.from(rand(4 * batch * hidden), (v) => (v + 1) / 2);
    await compare([act, rand(batch * hidden), rand(batch * hidden), rand(batch * hidden), rand(batch * hidden), new Float32Array(4 * batch * hidden), new Float32Array(batch * hidden)],
      [5, 6], (e, [a, cPrev, c, dh, dcNext, dPre, dcPrev]) => e.lstmBackward({ act: a, cPrev, c, dh, dcNext, dPre, dcPrev, batch, hidden }));
    await compare([rand(rows * vocab, 5), ids(rows, vocab), new Float32Array(rows), new Float32Array(rows * vocab)], [2, 3],
      (e, [logits, targets, losses, dLogits]) => e.softmaxXent({ logits, targets, losses, dLogits, rows, vocab, scale: 0.25 }));
    await compare([rand(53), rand(53), new Float32Array(53)], [2], (e, [a, b, o]) => e.mul({ out: o, outOff: 1, a, aOff: 2, b, len: 50 }));
    const S = rand(1001);
    await compare([S, new Float32Array(1)], [1], (e, [x, o]) => e.sumSquares({ out: o, x, len: 1001 }));
    await compare([rand(41), rand(41), rand(41, 0.1), rand(41, 0.01).map(Math.abs)], [0, 2, 3], (e, [param, grad, m, v]) =>
      e.adamw({ param, grad, m, v, off: 2, len: 37, lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 5, gradScale: 0.7 }));
  });
});

describe('simd engine: argument checks and lifecycle', () => {
  it('refuses out-of-range operands, foreign tensors and bad ids, and use after dispose', async () => {
    const e = await createSimdEngine({ threads: 2 });
    const other = await createSimdEngine({ threads: 1 });
    const t = e.tensor(10), u = other.tensor(10);
    expect(() => e.copy({ dst: t, dstOff: 5, src: t, len: 6 })).toThrow(RangeError);
    expect(() => e.zero({ out: t, outOff: -1, len: 2 })).toThrow(RangeError);
    expect(() => e.copy({ dst: t, src: u, len: 2 })).toThrow(TypeError);
    expect(() => e.matmul({ c: t, a: t, b: t, m: 3, n: 4, k: 1 })).toThrow(RangeError);
    await expect(e.read(t, 8, 3)).rejects.toThrow(RangeError);
    const table = e.tensor(6), out = e.tensor(6), idt = e.tensor(2);
    e.write(idt, Float32Array.from([1, 3]));
    expect(() => e.embedding({ out, table, ids: idt, n: 2, dim: 2 })).toThrow(/ids\[1\] = 3/);
    e.write(idt, Float32Array.from([1, 0.5]));
    expect(() => e.embeddingBackward({ dTable: table, dOut: out, ids: idt, n: 2, dim: 2, vocab: 3 })).toThrow(RangeError);
    const losses = e.tensor(2);
    e.write(idt, Float32Array.from([0, -1]));
    expect(() => e.softmaxXent({ logits: table, targets: idt, losses, rows: 2, vocab: 3 })).toThrow(RangeError);
    e.dispose();
    other.dispose();
    expect(() => e.zero({ out: t })).toThrow(/dispose/);
  });

  it('lets a process exit without dispose (workers are unref\'d)', () => {
    const built = path.join(packageRoot(), 'dist', 'engine', 'simd', 'engine.js');
    if (!existsSync(built)) return; // `npm test` builds first; a bare vitest run may not have dist/
    const code = `import(${JSON.stringify(built)}).then(async (m) => { const e = await m.createSimdEngine({ threads: 3 }); `
      + `const t = e.tensor(100000); e.zero(t); console.log('ok'); });`;
    const r = spawnSync(process.execPath, ['-e', code], { timeout: 20_000, encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('ok');
    expect(r.status).toBe(0);
  });
});
