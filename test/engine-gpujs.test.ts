// The gpu.js engine against straightforward float64 loops written here, in every mode that runs
// on this machine (cpu and webasm; the GPU modes are probed but need hardware). The device-storage
// path of the GPU modes (serial op queue, splice kernels, handle lifetimes) also runs here, on
// gpu.js's cpu mode, whose pipeline results are plain arrays.
//
// Tolerance: elementwise results within 1e-5 relative (plus 1e-6 absolute near zero). For sums
// (matmul, sumRows, sumSquares, embedding gradients) float32 accumulation error scales with the
// sum of the magnitudes of the terms, so the bound is 1e-5 × Σ|term| + 1e-6.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Engine, Tensor } from '../src/engine/engine.js';
import gpujs from 'gpu.js';
import { DeviceBackend } from '../src/engine/gpujs/device.js';
import { checkedEngine } from '../src/engine/checked.js';
import { GpuJsEngine, MAX_PASS } from '../src/engine/gpujs/engine.js';
import { createGpuJsEngine, probeGpuJsModes } from '../src/engine/gpujs/index.js';
import { UserError } from '../src/errors.js';
import { gpuModes } from './engines.js';
import { failOnConsoleOutput, prng, randoms } from './support.js';

const TOL = 1e-5;
const ABS = 1e-6;


/** got[i] ≈ want[i] within TOL × bound[i] + ABS (bound defaults to |want|). */
function expectClose(got: Float32Array, want: ArrayLike<number>, bound?: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const limit = TOL * Math.abs(bound ? bound[i]! : want[i]!) + ABS;
    if (!(Math.abs(got[i]! - want[i]!) <= limit)) {
      throw new Error(`element ${i}: got ${got[i]}, want ${want[i]} (allowed error ${limit})`);
    }
  }
}

failOnConsoleOutput();

describe('probeGpuJsModes', () => {
  it('reports cpu and webasm as working, and a reason for every mode that is not', async () => {
    const modes = await probeGpuJsModes();
    expect(modes.map((m) => m.mode).sort()).toEqual(['cpu', 'gpu', 'headlessgl', 'webasm', 'webgpu']);
    expect(modes.find((m) => m.mode === 'cpu')?.ok).toBe(true);
    expect(modes.find((m) => m.mode === 'webasm')?.ok).toBe(true);
    for (const m of modes.filter((x) => !x.ok)) expect(m.reason).toMatch(/\S/);
  });

  it('refuses an unavailable mode with a UserError naming it', async () => {
    const modes = await probeGpuJsModes();
    for (const m of modes.filter((x) => !x.ok)) {
      const attempt = createGpuJsEngine(m.mode as 'webgpu');
      await expect(attempt).rejects.toBeInstanceOf(UserError);
      await expect(createGpuJsEngine(m.mode as 'webgpu')).rejects.toThrow(`backend ${m.mode} is not available here:`);
    }
  });
});

const cpuVariants = [
  { label: 'cpu', mode: 'cpu', make: () => createGpuJsEngine('cpu') },
  { label: 'webasm', mode: 'webasm', make: () => createGpuJsEngine('webasm') },
  {
    label: 'cpu through the device-storage path',
    mode: 'cpu',
    make: async (): Promise<Engine> => checkedEngine(new GpuJsEngine('cpu', new DeviceBackend(new gpujs.GPU({ mode: 'cpu' }), 'cpu'))),
  },
] as const;
// scripts/test-gpu.sh sets CHARNN_GPU_MODES: the same op checks then run on real device storage.
const variants = gpuModes.length
  ? gpuModes.map((m) => ({ label: m, mode: m, make: () => createGpuJsEngine(m) }))
  : cpuVariants;

describe.each(variants)('gpu.js engine: $label', ({ mode, make }) => {
  let e: Engine;
  const rng = prng(12345);

  beforeAll(async () => {
    e = await make();
  });
  afterAll(() => e.dispose());

  function load(data: Float32Array, pad = 0): [Tensor, number] {
    const t = e.tensor(data.length + 2 * pad);
    e.write(t, data, pad);
    return [t, pad];
  }

  it('has the mode as its name', () => {
    expect(e.name).toBe(mode);
  });

  it('writes, reads, zeroes and copies ranges', async () => {
    const t = e.tensor(10);
    expect(Array.from(await e.read(t))).toEqual(new Array(10).fill(0));
    e.write(t, Float32Array.from([1, 2, 3, 4]), 3);
    expect(Array.from(await e.read(t, 2, 6))).toEqual([0, 1, 2, 3, 4, 0]);
    const u = e.tensor(6);
    e.copy({ dst: u, dstOff: 1, src: t, srcOff: 4, len: 3 });
    expect(Array.from(await e.read(u))).toEqual([0, 2, 3, 4, 0, 0]);
    e.zero({ out: t, outOff: 4, len: 2 });
    expect(Array.from(await e.read(t))).toEqual([0, 0, 0, 1, 0, 0, 4, 0, 0, 0]);
    await e.sync();
  });

  it('rejects ranges outside a tensor', () => {
    const t = e.tensor(4);
    expect(() => e.write(t, new Float32Array(3), 2)).toThrow(RangeError);
    expect(() => e.matmul({ c: t, a: t, b: t, m: 2, n: 3, k: 1 })).toThrow(RangeError);
  });

  it('broadcastRow', async () => {
    const rows = 5, cols = 7;
    const row = randoms(rng, cols);
    const [r, rOff] = load(row, 3);
    const out = e.tensor(rows * cols + 4);
    e.broadcastRow({ out, outOff: 2, row: r, rowOff: rOff, rows, cols });
    const want = new Float32Array(rows * cols + 4);
    for (let i = 0; i < rows; i++) want.set(row, 2 + i * cols);
    expectClose(await e.read(out), want);
  });

  for (const accumulate of [false, true]) {
    it(`sumRows accumulate=${accumulate}`, async () => {
      const rows = 6, cols = 5;
      const x = randoms(rng, rows * cols);
      const init = randoms(rng, cols);
      const [xt, xOff] = load(x, 2);
      const [out, oOff] = load(init, 1);
      e.sumRows({ out, outOff: oOff, x: xt, xOff, rows, cols, accumulate });
      const want = new Float64Array(cols + 2);
      const bound = new Float64Array(cols + 2);
      for (let j = 0; j < cols; j++) {
        want[1 + j] = accumulate ? init[j]! : 0;
        bound[1 + j] = Math.abs(want[1 + j]!);
        for (let i = 0; i < rows; i++) {
          want[1 + j]! += x[i * cols + j]!;
          bound[1 + j]! += Math.abs(x[i * cols + j]!);
        }
      }
      expectClose(await e.read(out), want, bound);
    });
  }

  function checkMatmul(m: number, n: number, k: number, transA: boolean, transB: boolean, accumulate: boolean) {
    return async () => {
      const a = randoms(rng, m * k), b = randoms(rng, k * n), c0 = randoms(rng, m * n);
      const [at, aOff] = load(a, 3);
      const [bt, bOff] = load(b, 5);
      const [ct, cOff] = load(c0, 2);
      e.matmul({ c: ct, cOff, a: at, aOff, b: bt, bOff, m, n, k, transA, transB, accumulate });
      const want = new Float64Array(m * n + 4);
      const bound = new Float64Array(m * n + 4);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = accumulate ? c0[i * n + j]! : 0;
          let mag = Math.abs(s);
          for (let p = 0; p < k; p++) {
            const av = transA ? a[p * m + i]! : a[i * k + p]!;
            const bv = transB ? b[j * k + p]! : b[p * n + j]!;
            s += av * bv;
            mag += Math.abs(av * bv);
          }
          want[cOff + i * n + j] = s;
          bound[cOff + i * n + j] = mag;
        }
      }
      expectClose(await e.read(ct), want, bound);
    };
  }

  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      for (const accumulate of [false, true]) {
        it(`matmul 5×7×3 transA=${transA} transB=${transB} accumulate=${accumulate}`, checkMatmul(5, 7, 3, transA, transB, accumulate));
      }
    }
  }
  it('matmul with a longer inner loop than gpu.js caps argument loops at (k=1500)', checkMatmul(3, 5, 1500, true, false, false));
  it('matmul 33×65×40 transB', checkMatmul(33, 65, 40, false, true, true));

  it('embedding', async () => {
    const vocab = 6, dim = 5, n = 7;
    const table = randoms(rng, vocab * dim);
    const ids = Float32Array.from({ length: n }, () => Math.floor(rng() * vocab));
    ids[0] = vocab - 1;
    const [tt, tOff] = load(table, 4);
    const [it2, iOff] = load(ids, 1);
    const out = e.tensor(n * dim + 3);
    e.embedding({ out, outOff: 3, table: tt, tableOff: tOff, ids: it2, idsOff: iOff, n, dim });
    const want = new Float32Array(n * dim + 3);
    for (let i = 0; i < n; i++) want.set(table.subarray(ids[i]! * dim, ids[i]! * dim + dim), 3 + i * dim);
    expectClose(await e.read(out), want);
  });

  it('embeddingBackward adds repeated ids up', async () => {
    const vocab = 6, dim = 5, n = 9;
    const ids = Float32Array.from([2, 0, 2, 5, 2, 1, 0, 5, 3]);
    const dOut = randoms(rng, n * dim);
    const d0 = randoms(rng, vocab * dim);
    const [dt, dOff] = load(d0, 2);
    const [ot, oOff] = load(dOut, 3);
    const [it2, iOff] = load(ids, 4);
    e.embeddingBackward({ dTable: dt, dTableOff: dOff, dOut: ot, dOutOff: oOff, ids: it2, idsOff: iOff, n, dim, vocab });
    const want = new Float64Array(vocab * dim + 4);
    const bound = new Float64Array(vocab * dim + 4);
    for (let j = 0; j < vocab * dim; j++) {
      want[2 + j] = d0[j]!;
      bound[2 + j] = Math.abs(d0[j]!);
    }
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < dim; c++) {
        want[2 + ids[i]! * dim + c]! += dOut[i * dim + c]!;
        bound[2 + ids[i]! * dim + c]! += Math.abs(dOut[i * dim + c]!);
      }
    }
    expectClose(await e.read(dt), want, bound);
  });

  const sig = (x: number) => 1 / (1 + Math.exp(-x));

  it('lstmForward', async () => {
    const batch = 3, H = 5;
    const pre = randoms(rng, batch * 4 * H, 3);
    const cPrev = randoms(rng, batch * H, 2);
    pre[2 * H] = 60; // tanh of a large input must give 1, not NaN (exp overflow)
    cPrev[1] = -80;
    const [pt, pOff] = load(pre, 2);
    const [ct, cpOff] = load(cPrev, 1);
    const act = e.tensor(batch * 4 * H + 3), c = e.tensor(batch * H + 4), h = e.tensor(batch * H + 2);
    e.lstmForward({ pre: pt, preOff: pOff, act, actOff: 3, cPrev: ct, cPrevOff: cpOff, c, cOff: 4, h, hOff: 1, batch, hidden: H });
    const wantAct = new Float64Array(batch * 4 * H + 3);
    const wantC = new Float64Array(batch * H + 4);
    const wantH = new Float64Array(batch * H + 2);
    for (let b = 0; b < batch; b++) {
      for (let u = 0; u < H; u++) {
        const at = (g: number) => pre[b * 4 * H + g * H + u]!;
        const i = sig(at(0)), f = sig(at(1)), g = Math.tanh(at(2)), o = sig(at(3));
        [i, f, g, o].forEach((v, gate) => (wantAct[3 + b * 4 * H + gate * H + u] = v));
        const cv = f * cPrev[b * H + u]! + i * g;
        wantC[4 + b * H + u] = cv;
        wantH[1 + b * H + u] = o * Math.tanh(cv);
      }
    }
    expectClose(await e.read(act), wantAct);
    expectClose(await e.read(c), wantC);
    expectClose(await e.read(h), wantH);
  });

  it('lstmBackward', async () => {
    const batch = 3, H = 5;
    const pre = randoms(rng, batch * 4 * H, 2);
    const actData = Float32Array.from(pre, (v, j) => (Math.floor((j % (4 * H)) / H) === 2 ? Math.tanh(v) : sig(v)));
    const cPrev = randoms(rng, batch * H, 2), c = randoms(rng, batch * H, 2);
    const dh = randoms(rng, batch * H), dcNext = randoms(rng, batch * H);
    const [at, aOff] = load(actData, 1);
    const [cpt, cpOff] = load(cPrev, 2);
    const [ctt, cOff] = load(c, 3);
    const [dht, dhOff] = load(dh, 1);
    const [dct, dcOff] = load(dcNext, 2);
    const dPre = e.tensor(batch * 4 * H + 2), dcPrev = e.tensor(batch * H + 5);
    e.lstmBackward({
      act: at, actOff: aOff, cPrev: cpt, cPrevOff: cpOff, c: ctt, cOff, dh: dht, dhOff, dcNext: dct, dcNextOff: dcOff,
      dPre, dPreOff: 2, dcPrev, dcPrevOff: 5, batch, hidden: H,
    });
    const wantPre = new Float64Array(batch * 4 * H + 2);
    const wantDc = new Float64Array(batch * H + 5);
    for (let b = 0; b < batch; b++) {
      for (let u = 0; u < H; u++) {
        const e2 = b * H + u;
        const [i, f, g, o] = [0, 1, 2, 3].map((gate) => actData[b * 4 * H + gate * H + u]!) as [number, number, number, number];
        const tc = Math.tanh(c[e2]!);
        const dO = dh[e2]! * tc;
        const dcTot = dcNext[e2]! + dh[e2]! * o * (1 - tc * tc);
        const base = 2 + b * 4 * H + u;
        wantPre[base] = dcTot * g * i * (1 - i);
        wantPre[base + H] = dcTot * cPrev[e2]! * f * (1 - f);
        wantPre[base + 2 * H] = dcTot * i * (1 - g * g);
        wantPre[base + 3 * H] = dO * o * (1 - o);
        wantDc[5 + e2] = dcTot * f;
      }
    }
    expectClose(await e.read(dPre), wantPre);
    expectClose(await e.read(dcPrev), wantDc);
  });

  for (const withGrad of [false, true]) {
    it(`softmaxXent${withGrad ? ' with dLogits and scale' : ''}, stable for large logits`, async () => {
      const rows = 4, vocab = 7, scale = withGrad ? 0.25 : 1;
      const logits = randoms(rng, rows * vocab, 4);
      for (let v = 0; v < vocab; v++) logits[vocab + v]! += 1000; // row 1 would overflow exp without the max
      const targets = Float32Array.from([3, 0, 6, 2]);
      const [lt, lOff] = load(logits, 2);
      const [tt, tOff] = load(targets, 1);
      const losses = e.tensor(rows + 2);
      const dLogits = withGrad ? e.tensor(rows * vocab + 1) : undefined;
      e.softmaxXent({ logits: lt, logitsOff: lOff, targets: tt, targetsOff: tOff, losses, lossesOff: 2, dLogits, dLogitsOff: 1, rows, vocab, ...(withGrad ? { scale } : {}) });
      const wantLoss = new Float64Array(rows + 2);
      const wantGrad = new Float64Array(rows * vocab + 1);
      for (let r = 0; r < rows; r++) {
        const row = Array.from(logits.subarray(r * vocab, r * vocab + vocab));
        const mx = Math.max(...row);
        const sum = row.reduce((s, v) => s + Math.exp(v - mx), 0);
        // The loss is a difference of numbers near the logits' size, so its error scales with them.
        wantLoss[2 + r] = mx + Math.log(sum) - row[targets[r]!]!;
        row.forEach((v, j) => (wantGrad[1 + r * vocab + j] = (Math.exp(v - mx) / sum - (j === targets[r] ? 1 : 0)) * scale));
      }
      const lossBound = Float64Array.from(wantLoss, (v, i) => (i >= 2 ? Math.abs(v) + Math.abs(logits[(i - 2) * vocab]!) + 4 : 0));
      expectClose(await e.read(losses), wantLoss, lossBound);
      if (dLogits) expectClose(await e.read(dLogits), wantGrad, Float64Array.from(wantGrad, () => 1));
    });
  }

  it('sumSquares over several partial-sum blocks', async () => {
    const len = 1000;
    const x = randoms(rng, len, 3);
    const [xt, xOff] = load(x, 7);
    const out = e.tensor(3);
    e.sumSquares({ out, outOff: 2, x: xt, xOff, len });
    const want = x.reduce((s, v) => s + v * v, 0);
    expectClose(await e.read(out), [0, 0, want]);
  });

  it('adamw updates param, m and v over [off, off+len) only', async () => {
    const size = 13, off = 3, len = 8;
    const p0 = randoms(rng, size), g = randoms(rng, size), m0 = randoms(rng, size, 0.1), v0 = Float32Array.from(randoms(rng, size, 0.01), Math.abs);
    const [pt] = load(p0), [gt] = load(g), [mt] = load(m0), [vt] = load(v0);
    const h = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: 3, gradScale: 0.5 };
    e.adamw({ param: pt, grad: gt, m: mt, v: vt, off, len, ...h });
    const wp = Float64Array.from(p0), wm = Float64Array.from(m0), wv = Float64Array.from(v0);
    for (let i = off; i < off + len; i++) {
      wp[i]! -= h.lr * h.weightDecay * wp[i]!;
      const gs = g[i]! * h.gradScale;
      wm[i] = h.beta1 * m0[i]! + (1 - h.beta1) * gs;
      wv[i] = h.beta2 * v0[i]! + (1 - h.beta2) * gs * gs;
      const mhat = wm[i]! / (1 - h.beta1 ** h.step);
      const vhat = wv[i]! / (1 - h.beta2 ** h.step);
      wp[i]! -= (h.lr * mhat) / (Math.sqrt(vhat) + h.eps);
    }
    expectClose(await e.read(mt), wm);
    expectClose(await e.read(vt), wv);
    expectClose(await e.read(pt), wp);
  });

  it('sumSquares and adamw split buffers longer than one pass', async () => {
    const size = MAX_PASS + 1003, off = 2, len = MAX_PASS + 1000;
    const x = randoms(rng, size);
    const [xt] = load(x);
    const out = e.tensor(1);
    e.sumSquares({ out, x: xt, xOff: off, len });
    let want = 0;
    for (let i = off; i < off + len; i++) want += x[i]! * x[i]!;
    // Float32 partial sums of ~4M terms: looser than elsewhere, still far below any real bug.
    const [got] = await e.read(out);
    expect(Math.abs(got! - want) / want).toBeLessThan(1e-4);

    const zeros = e.tensor(size), ones = e.tensor(size), g = e.tensor(size);
    e.write(ones, new Float32Array(size).fill(1));
    e.write(g, new Float32Array(size).fill(2));
    const h = { lr: 0.5, beta1: 0.5, beta2: 0.5, eps: 0, weightDecay: 0, step: 1, gradScale: 1 };
    e.adamw({ param: ones, grad: g, m: zeros, v: e.tensor(size), off, len, ...h });
    // m = 1, v = 2, mhat = 2, vhat = 4: param = 1 − 0.5·2/2 = 0.5 inside the range, 1 outside.
    const p = await e.read(ones);
    for (const i of [0, 1, off, MAX_PASS - 1, MAX_PASS + 5, off + len - 1]) expect(p[i]).toBe(i >= off && i < off + len ? 0.5 : 1);
    expect(p[size - 1]).toBe(1);
    expect(p.filter((v) => v === 0.5).length).toBe(len);
  });

  if (mode === 'webasm') {
    it('refuses kernels too large for float32 indexing instead of computing garbage', () => {
      const row = e.tensor(4096), out = e.tensor(4097 * 4096);
      expect(() => e.broadcastRow({ out, row, rows: 4097, cols: 4096 })).toThrow(UserError);
    });
  }

  it('reuses compiled kernels across offsets and calls', async () => {
    // The same shape at a different offset must give the right answer from the cached kernel.
    const a = randoms(rng, 8), b = randoms(rng, 8);
    const t = e.tensor(24);
    e.write(t, a, 0);
    e.write(t, b, 8);
    const out = e.tensor(2);
    e.sumSquares({ out, x: t, len: 8 });
    e.sumSquares({ out, outOff: 1, x: t, xOff: 8, len: 8 });
    const got = await e.read(out);
    expectClose(got, [a.reduce((s, v) => s + v * v, 0), b.reduce((s, v) => s + v * v, 0)]);
  });
});
