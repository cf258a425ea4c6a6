// The threaded simd ops under a competing load, against a single-thread run of the same engine:
// every output must match bit for bit, whatever the scheduler does to the threads. Busy child
// processes (one per core) make threads lose their core at random points of the command protocol,
// which quiet runs almost never do. Each iteration runs a training-like chain (products feeding
// cells feeding norms, reductions and the optimizer), mixing split ops with ops small enough to
// run on the calling thread alone, and allocating fresh tensors (memory growth) between ops;
// then a real model's training steps with the fused inference step between them (the pool's two
// kinds of command, see src/engine/simd/pool.ts, alternating).
//
// CHARNN_STRESS_ITERS=N runs N iterations (the default run stops after 60 iterations or
// DEFAULT_BUDGET_MS, whichever comes first, to stay short in `npm test`);
// CHARNN_STRESS_LOAD=N starts N busy processes instead of one per core.
import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, Tensor } from '../src/engine/engine-api.js';
import { createSimdEngine } from '../src/engine/simd/simd-engine.js';
import { CELLS, validateConfig } from '../src/model/config.js';
import { InferSession } from '../src/model/infer-session.js';
import { Weights, Workspace } from '../src/model/model.js';
import { initParams, paramLayout } from '../src/model/params.js';
import { Rng } from '../src/rng.js';
import { prng } from './support.js';

const envIters = Number(process.env.CHARNN_STRESS_ITERS ?? '');
const ITERS = Number.isInteger(envIters) && envIters > 0 ? envIters : 60;
const DEFAULT_BUDGET_MS = 12_000;
const LONG = Number.isInteger(envIters) && envIters > 0;
const BUDGET_MS = LONG ? Infinity : DEFAULT_BUDGET_MS;
const envLoad = Number(process.env.CHARNN_STRESS_LOAD ?? '');
const LOAD = Number.isInteger(envLoad) && envLoad >= 0 ? envLoad : os.availableParallelism();

type Rng = () => number;
const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const data = (rng: Rng, n: number, scale = 1) => Float32Array.from({ length: n }, () => (rng() * 2 - 1) * scale);

/**
 * One iteration's chain on engine e, driven by `seed` so every engine runs the same ops on the
 * same data; returns every output it produced, in order.
 */
async function chain(e: Engine, seed: number): Promise<Float32Array[]> {
  const rng = prng(seed);
  const outs: Tensor[] = [];
  const put = (v: Float32Array): Tensor => { const t = e.tensor(v.length); e.write(t, v); return t; };
  const fresh = (n: number): Tensor => { const t = e.tensor(n); outs.push(t); return t; };

  // Shapes: sometimes the training ones (B32 H256), sometimes odd small ones below the split thresholds.
  const big = rng() < 0.5;
  const B = big ? 32 : int(rng, 1, 9), H = big ? 256 : int(rng, 1, 70), E = big ? 64 : int(rng, 1, 20);

  // Input product, GRU step forward and backward (the op the reported mismatch was in).
  const x = put(data(rng, B * E)), wx = put(data(rng, E * 3 * H, 0.3)), wh = put(data(rng, H * 3 * H, 0.1));
  const hPrev = put(data(rng, B * H));
  const gx = fresh(B * 3 * H), gh = fresh(B * 3 * H);
  e.matmul({ c: gx, a: x, b: wx, m: B, n: 3 * H, k: E });
  e.matmul({ c: gh, a: hPrev, b: wh, m: B, n: 3 * H, k: H });
  const act = fresh(B * 3 * H), h = fresh(B * H);
  e.gruForward({ gx, gh, hPrev, act, h, batch: B, hidden: H });
  const dh = put(data(rng, B * H)), dGx = fresh(B * 3 * H), dGh = fresh(B * 3 * H), dhPrev = fresh(B * H);
  e.write(dhPrev, data(rng, B * H));
  e.gruBackward({ act, gh, hPrev, dh, dGx, dGh, dhPrev, batch: B, hidden: H });
  e.matmul({ c: dhPrev, a: dGh, b: wh, m: B, n: H, k: 3 * H, transB: true, accumulate: true });
  const dWh = fresh(H * 3 * H);
  e.matmul({ c: dWh, a: hPrev, b: dGh, m: H, n: 3 * H, k: B, transA: true });

  // LSTM step on the GRU's output.
  const pre = fresh(B * 4 * H);
  const w4 = put(data(rng, H * 4 * H, 0.1));
  e.matmul({ c: pre, a: h, b: w4, m: B, n: 4 * H, k: H });
  const lact = fresh(B * 4 * H), c = fresh(B * H), lh = fresh(B * H), cPrev = put(data(rng, B * H));
  e.lstmForward({ pre, act: lact, cPrev, c, h: lh, batch: B, hidden: H });
  const dPre = fresh(B * 4 * H), dcPrev = fresh(B * H);
  e.lstmBackward({ act: lact, cPrev, c, dh: lh, dcNext: dhPrev, dPre, dcPrev, batch: B, hidden: H });

  // Pointwise ops, in place and not, over lengths around the split thresholds.
  const L = big ? int(rng, 30_000, 70_000) : int(rng, 1, 3000);
  const p = put(data(rng, L, 3)), q = put(data(rng, L)), r = fresh(L);
  e.mul({ out: r, a: p, b: q, len: L });
  e.add({ out: r, a: r, b: p, len: L });
  const t = fresh(L);
  e.tanhForward({ out: t, x: r, len: L });
  e.tanhBackward({ dx: q, y: t, dy: q, len: L });
  e.geluForward({ out: t, x: p, len: L });
  e.geluBackward({ dx: q, x: p, dy: q, len: L });
  outs.push(q);

  // minGRU scan over a few steps, RMSNorm, softmax cross-entropy.
  const S = int(rng, 1, 6);
  const proj = put(data(rng, S * 2 * B * H, 3)), sact = fresh(S * 2 * B * H), sh = fresh((S + 1) * B * H);
  e.write(sh, data(rng, B * H));
  e.minScanForward({ cell: 'mingru', proj, act: sact, h: sh, steps: S, batch: B, hidden: H });
  const sdh = put(data(rng, S * B * H)), dProj = fresh(S * 2 * B * H);
  e.minScanBackward({ cell: 'mingru', proj, act: sact, h: sh, dh: sdh, dProj, steps: S, batch: B, hidden: H });
  const R = S * B;
  const nw = put(data(rng, H)), nout = fresh(R * H), rstd = fresh(R);
  e.rmsNormForward({ x: sh, xOff: B * H, w: nw, out: nout, rstd, rows: R, cols: H, eps: 1e-5 });
  const ndx = fresh(R * H), ndw = fresh(H);
  e.rmsNormBackward({ x: sh, xOff: B * H, w: nw, rstd, dOut: sdh, dx: ndx, dw: ndw, rows: R, cols: H });
  const V = big ? 65 : int(rng, 1, 80);
  const logits = fresh(R * V);
  const wv = put(data(rng, H * V, 0.2));
  e.matmul({ c: logits, a: nout, b: wv, m: R, n: V, k: H });
  const targets = put(Float32Array.from({ length: R }, () => int(rng, 0, V - 1)));
  const losses = fresh(R), dLogits = fresh(R * V);
  e.softmaxXent({ logits, targets, losses, dLogits, rows: R, vocab: V, scale: 1 / R });

  // Reductions, embedding and the optimizer over the gradients.
  const bias = fresh(3 * H);
  e.sumRows({ out: bias, x: dGx, rows: B, cols: 3 * H, accumulate: false });
  const bcast = fresh(B * 3 * H);
  e.broadcastRow({ out: bcast, row: bias, rows: B, cols: 3 * H });
  const ids = put(Float32Array.from({ length: R }, () => int(rng, 0, V - 1)));
  const emb = fresh(R * H);
  e.embedding({ out: emb, table: wv, ids, n: R, dim: H > V ? V : H });
  const dTable = fresh(V * H);
  e.embeddingBackward({ dTable, dOut: ndx, ids, n: R, dim: H, vocab: V });
  const norm = fresh(1);
  e.sumSquares({ out: norm, x: dWh, len: H * 3 * H });
  const m = fresh(H * 3 * H), v = fresh(H * 3 * H);
  for (let step = 1; step <= 2; step++) {
    e.adamw({ param: wh, grad: dWh, m, v, off: 0, len: H * 3 * H, lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8,
      weightDecay: 0.1, step, gradScale: 0.5 });
  }
  outs.push(wh);
  const copyDst = fresh(H * 3 * H);
  e.copy({ dst: copyDst, src: wh, len: H * 3 * H });
  e.zero({ out: copyDst, outOff: 1, len: Math.max(0, H * 3 * H - 2) });

  const results = await Promise.all(outs.map((o) => e.read(o)));
  return [...results, ...await modelChain(e, seed)];
}

/**
 * A real model's training steps (forward, loss, backward: commands any thread may join) with
 * the fused inference step between them (a command every thread runs once, meeting at
 * barriers), so the two kinds of command alternate; returns the logits and the gradients.
 */
async function modelChain(e: Engine, seed: number): Promise<Float32Array[]> {
  const rng = prng(seed ^ 0x9e3779b9);
  const cfg = validateConfig({ cell: CELLS[seed % CELLS.length], vocab: 11, embed: 6, hidden: 20, layers: 2, mlp: 1 });
  const w = new Weights(e, cfg, initParams(cfg, paramLayout(cfg), new Rng(seed)));
  w.enableTraining();
  const B = 4, T = 6;
  const ids = Float32Array.from({ length: B * T }, () => int(rng, 0, cfg.vocab - 1));
  const targets = Float32Array.from({ length: B * T }, () => int(rng, 0, cfg.vocab - 1));
  const ws = new Workspace(w, B, T, true);
  ws.setInputs(ids, targets);
  const session = new InferSession(w, B);
  const out: Float32Array[] = [];
  for (let t = 0; t < T; t++) {
    out.push((await session.step(ids.subarray(t * B, (t + 1) * B))).slice());
    ws.forward();
    ws.loss();
    ws.backward();
  }
  out.push(await e.read(w.grads!));
  return out;
}

function firstDifference(got: Float32Array, want: Float32Array): number {
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) return i;
  return -1;
}

/** Iterations per set of engines: the arena never frees, and every iteration allocates afresh. */
const ENGINE_LIFE = 40;

async function engines(): Promise<[string, Engine][]> {
  const cores = os.availableParallelism();
  return [
    ['1 thread', await createSimdEngine({ threads: 1 })],
    ['2 threads', await createSimdEngine({ threads: 2 })],
    ['2 threads, every op split', await createSimdEngine({ threads: 2, forceParallel: true })],
    [`${cores + 1} threads, every op split`, await createSimdEngine({ threads: cores + 1, forceParallel: true })],
  ];
}

describe('simd threads under a competing load', () => {
  const busy: ChildProcess[] = [];
  let set: [string, Engine][] = [];

  beforeAll(() => {
    for (let i = 0; i < LOAD; i++) busy.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  });

  afterAll(() => {
    for (const b of busy) b.kill('SIGKILL');
    for (const [, e] of set) e.dispose();
  });

  it('gives the single-thread results bit for bit, every iteration', async () => {
    const start = performance.now();
    const failures: string[] = [];
    let ran = 0;
    for (let it = 0; it < ITERS && performance.now() - start < BUDGET_MS; it++, ran++) {
      if (it % ENGINE_LIFE === 0) {
        for (const [, e] of set) e.dispose();
        set = await engines();
      }
      const seed = 0x5eed + it;
      const [[, one], ...variants] = set;
      const want = await chain(one, seed);
      for (const [name, e] of variants) {
        const got = await chain(e, seed);
        for (let j = 0; j < want.length; j++) {
          const i = firstDifference(got[j], want[j]);
          if (i >= 0) failures.push(`iteration ${it}, ${name}, output ${j} element ${i}: got ${got[j][i]}, want ${want[j][i]}`);
        }
      }
    }
    expect(ran).toBeGreaterThan(0);
    expect(failures).toEqual([]);
  }, LONG ? 7 * 24 * 3600_000 : 60_000);
});
