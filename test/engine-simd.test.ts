// The WebAssembly SIMD engine's own guarantees: every op gives the same bits on 1 and 2 threads,
// and its workers never keep a process alive. Its numbers against the js engine are in
// test/conformance, its refusals in test/conformance/refusals.test.ts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, Tensor } from '../src/engine/engine-api.js';
import { createSimdEngine } from '../src/engine/simd/simd-engine.js';
import { packageRoot } from '../src/package-root.js';
import { prng } from './support.js';

const f = Math.fround;

const rng = prng(7);
const rand = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (rng() * 2 - 1) * scale);
const ids = (n: number, limit: number) => Float32Array.from({ length: n }, () => Math.floor(rng() * limit));

function expectExact(got: Float32Array, want: ArrayLike<number>, what = ''): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], f(want[i]))) throw new Error(`${what} element ${i}: got ${got[i]}, want ${want[i]}`);
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
    { name: 'geluForward keeping exp(−2u), then geluBackward from it', inputs: [rand(L, 5), new Float32Array(L), new Float32Array(L), rand(L)],
      outputs: [1, 2, 3], op: (e, [x, o, k, d]) => {
        e.geluForward({ out: o, x, len: L - 2, e: k, eOff: 2 });
        e.geluBackward({ dx: d, x, dy: d, len: L - 2, e: k, eOff: 2 });
      } },
    { name: 'gruForward', inputs: [rand(3 * B * H, 3), rand(3 * B * H, 3), rand(B * H), new Float32Array(3 * B * H), new Float32Array(B * H)],
      outputs: [3, 4], op: (e, [gx, gh, hPrev, act, h]) => e.gruForward({ gx, gh, hPrev, act, h, batch: B, hidden: H }) },
    { name: 'gruBackward', inputs: [act3, rand(3 * B * H), rand(B * H), rand(B * H), new Float32Array(3 * B * H), new Float32Array(3 * B * H), rand(B * H)],
      outputs: [4, 5, 6], op: (e, [act, gh, hPrev, dh, dGx, dGh, dhPrev]) => e.gruBackward({ act, gh, hPrev, dh, dGx, dGh, dhPrev, batch: B, hidden: H }) },
    ...(['mingru', 'minlstm'] as const).flatMap((cell) => {
      const w = cell === 'mingru' ? 2 : 3;
      return [
        { name: `minScanForward ${cell}`, inputs: [rand(S * w * B * H, 3), new Float32Array(S * w * B * H), rand((S + 1) * B * H)], outputs: [1, 2],
          op: (e: Engine, [proj, act, h]: Tensor[]) => e.minScanForward({ cell, proj, act, h, steps: S, batch: B, hidden: H }) },
        { name: `minScanForward ${cell} with the residual sum`,
          inputs: [rand(S * w * B * H, 3), new Float32Array(S * w * B * H), rand((S + 1) * B * H), rand(S * B * H + 1), rand(S * B * H + 2, 9)],
          outputs: [1, 2, 4], op: (e: Engine, [proj, act, h, res, sum]: Tensor[]) => e.minScanForward({
            cell, proj, act, h, steps: S, batch: B, hidden: H, residual: res, residualOff: 1, sum, sumOff: 2 }) },
        { name: `minScanBackward ${cell}`, inputs: [rand(S * w * B * H, 3), scanAct(w), rand((S + 1) * B * H), rand(S * B * H), new Float32Array(S * w * B * H)],
          outputs: [4], op: (e: Engine, [proj, act, h, dh, dProj]: Tensor[]) => e.minScanBackward({ cell, proj, act, h, dh, dProj, steps: S, batch: B, hidden: H }) },
      ];
    }),
    { name: 'rmsNormForward', inputs: [rand(R * Cc, 2), rand(Cc), new Float32Array(R * Cc), new Float32Array(R)], outputs: [2, 3],
      op: (e, [x, w, out, rstd]) => e.rmsNormForward({ x, w, out, rstd, rows: R, cols: Cc, eps: 1e-5 }) },
    { name: 'rmsNormBackward', inputs: [rand(R * Cc, 2), rand(Cc), Float32Array.from(rand(R), (v) => 1 + Math.abs(v)), rand(R * Cc), rand(R * Cc), rand(Cc)],
      outputs: [4, 5], op: (e, [x, w, rstd, dOut, dx, dw]) => e.rmsNormBackward({ x, w, rstd, dOut, dx, dw, rows: R, cols: Cc }) },
    { name: 'rmsNormBackward onto a residual',
      inputs: [rand(R * Cc, 2), rand(Cc), Float32Array.from(rand(R), (v) => 1 + Math.abs(v)), rand(R * Cc), rand(R * Cc, 9), rand(Cc), rand(R * Cc + 2)],
      outputs: [4, 5], op: (e, [x, w, rstd, dOut, dx, dw, res]) => e.rmsNormBackward({
        x, w, rstd, dOut, dx, dw, rows: R, cols: Cc, residual: res, residualOff: 2 }) },
  ];
}

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

  it('matmul at training shapes, all transposes, with and without a bias row, B packed or not', async () => {
    const shapes: [number, number, number, boolean, boolean][] = [
      [32, 1024, 256, false, false], [512, 1024, 256, false, false], [256, 1024, 512, true, false], [512, 256, 1024, false, true],
      [1024, 65, 256, false, false], [512, 432, 216, false, false], [216, 432, 512, true, false], [33, 70, 600, false, true],
    ];
    for (const [m, n, k, transA, transB] of shapes) {
      const A = rand(m * k), B = rand(k * n), C0 = rand(m * n), R = rand(n);
      for (const withBias of [false, true]) for (const accumulate of [false, true]) {
        for (const bCache of transA ? [undefined] : [undefined, 'store' as const]) {
          await both(async (e) => {
            const [a] = put(e, A, 0), [b] = put(e, B, 0), [c] = put(e, C0, 0), [r] = put(e, R, 0);
            e.matmul({ c, a, b, m, n, k, transA, transB, accumulate, bias: withBias ? r : undefined, bCache });
            return e.read(c);
          });
        }
      }
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

describe('simd engine: lifecycle', () => {
  it('is the cpu backend', async () => {
    const e = await createSimdEngine({ threads: 1 });
    expect(e.name).toBe('cpu');
    e.dispose();
  });

  it('lets a process exit without dispose (workers are unref\'d)', () => {
    const built = path.join(packageRoot(), 'dist', 'engine', 'simd', 'simd-engine.js');
    if (!existsSync(built)) return; // `npm test` builds first; a bare vitest run may not have dist/
    const code = `import(${JSON.stringify(built)}).then(async (m) => { const e = await m.createSimdEngine({ threads: 3 }); `
      + `const t = e.tensor(100000); e.zero({ out: t }); console.log('ok'); });`;
    const r = spawnSync(process.execPath, ['-e', code], { timeout: 20_000, encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('ok');
    expect(r.status).toBe(0);
  });
});

describe.each([1, 2])('simd engine with %i thread(s): B packed once for many products', (threads) => {
  let e: Engine;
  beforeAll(async () => { e = await createSimdEngine({ threads, forceParallel: true }); });
  afterAll(() => e.dispose());

  it('bCache store, then reuse, gives the bits of the plain product; a store after B changed repacks', async () => {
    for (const [m, n, k] of [[3, 5, 7], [5, 9, 300], [33, 70, 600], [32, 1024, 256]]) {
      for (const transB of [false, true]) {
        const [b, bOff] = put(e, rand(k * n), 3);
        const [r, rOff] = put(e, rand(n), 4);
        for (const withBias of [false, true]) {
          const product = async (A: Float32Array, bCache?: 'store' | 'reuse') => {
            const [a, aOff] = put(e, A, 1), [c, cOff] = put(e, new Float32Array(m * n), 2);
            e.matmul({ c, cOff, a, aOff, b, bOff, m, n, k, transB, bCache, ...(withBias ? { bias: r, biasOff: rOff } : {}) });
            return e.read(c, cOff, m * n);
          };
          for (const round of [0, 1]) {
            if (round) e.write(b, rand(k * n), bOff);
            const A1 = rand(m * k), A2 = rand(m * k), what = `${m}x${n}x${k}${withBias ? ' bias' : ''}`;
            const want1 = await product(A1), want2 = await product(A2);
            expectExact(await product(A1, 'store'), want1, `${what} store`);
            expectExact(await product(A2, 'reuse'), want2, `${what} reuse`);
            expectExact(await product(A1, 'reuse'), want1, `${what} reuse again`);
          }
        }
      }
    }
  });
});
