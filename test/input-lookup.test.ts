// Inference looks the first classic layer's input projection up in a table of E·W_x + b (one row
// per character) instead of multiplying every embedded row: the eval workspace, the simd fused
// step and the composed step (gpu.js) all do. The eval workspace does the same for the first
// residual block: its input rows (embedding or stem) depend on the id alone, so its normed
// projection RMSNorm(x)·W + b does too. Each entry is the same product in the same order,
// so the results must be the same bits as the training forward's, not merely close. (The js
// engine's own step is a readable reference that sums differently; infer.test.ts holds it to a
// tolerance.)
import { afterAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/engine-api.js';
import { createSimdEngine } from '../src/engine/simd/simd-engine.js';
import { type Cell, type ModelConfig, validateConfig } from '../src/model/config.js';
import { InferSession } from '../src/model/infer-session.js';
import { Weights, Workspace } from '../src/model/model.js';
import { paramLayout } from '../src/model/params.js';
import { Rng } from '../src/rng.js';
import { engineFactories } from './engines.js';

const CLASSIC: Cell[] = ['lstm', 'gru', 'rnn'];
const RESIDUAL: Cell[] = ['mingru', 'minlstm'];
const factories = [
  ...engineFactories,
  { name: 'simd, 2 threads forced', create: () => createSimdEngine({ threads: 2, forceParallel: true }) },
];
const engines = new Map<string, Engine>();
async function engine(name: string): Promise<Engine> {
  if (!engines.has(name)) engines.set(name, await factories.find((f) => f.name === name)!.create());
  return engines.get(name)!;
}
afterAll(() => { for (const e of engines.values()) e.dispose(); });

/**
 * Odd sizes; the last config's vocabulary is larger than a chunk's positions, so it keeps the
 * product. Residual stacks also get one without a stem (embed = hidden) and one without an MLP.
 */
function configs(cell: Cell): ModelConfig[] {
  const residual = RESIDUAL.includes(cell);
  return [
    validateConfig({ cell, vocab: 11, embed: 5, hidden: 13, layers: 2, ...(residual ? { mlp: 2 } : {}) }),
    ...(residual ? [validateConfig({ cell, vocab: 11, embed: 13, hidden: 13, layers: 2, mlp: 0 })] : []),
    validateConfig({ cell, vocab: 70, embed: 40, hidden: 37, layers: 1 }),
  ];
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Random weights, biases included (the initial biases are mostly zero and would hide a lost one). */
function randomWeights(e: Engine, cfg: ModelConfig, seed: number): Weights {
  const rng = new Rng(seed), n = paramLayout(cfg).total;
  const w = new Weights(e, cfg, Float32Array.from({ length: n }, () => rng.uniform() - 0.5));
  w.enableTraining();
  return w;
}

/** Logits of two chunks with the state carried, through a workspace of the given kind (training: products over every position). */
async function chunks(w: Weights, training: boolean, ids: Float32Array, B: number, T: number): Promise<Float32Array[]> {
  const ws = new Workspace(w, B, T, training, 0, { lookup: !training }), out: Float32Array[] = [];
  for (let c = 0; c < 2; c++) {
    ws.setInputs(ids.subarray(c * B * T, (c + 1) * B * T));
    ws.forward();
    ws.carryState();
    out.push((await w.e.read(ws.logits)).slice());
  }
  return out;
}

const B = 3, T = 6;

/** Random weights and two chunks of random ids for cfg, from one seed. */
function setup(e: Engine, cfg: ModelConfig, seed: number): { w: Weights; ids: Float32Array } {
  const rng = new Rng(seed);
  return { w: randomWeights(e, cfg, seed + 1), ids: Float32Array.from({ length: 2 * B * T }, () => rng.int(cfg.vocab)) };
}

describe.each(factories.map((f) => f.name))('%s', (name) => {
  it.each([...CLASSIC, ...RESIDUAL])('%s: the eval workspace (table) gives the training forward (product) bit for bit', async (cell) => {
    const e = await engine(name);
    for (const cfg of configs(cell)) {
      const { w, ids } = setup(e, cfg, 5);
      const product = await chunks(w, true, ids, B, T), table = await chunks(w, false, ids, B, T);
      for (let c = 0; c < 2; c++) expect(bits(table[c]).equals(bits(product[c])), `${JSON.stringify(cfg)} chunk ${c}`).toBe(true);
    }
  });
});

/** Loss and gradients of one training step on ids, with the first layer's lookup or without. */
async function trainStep(w: Weights, ids: Float32Array, lookup: boolean): Promise<{ loss: Float32Array; grads: Float32Array }> {
  const ws = new Workspace(w, B, T, true, 0, { lookup });
  ws.setInputs(ids.subarray(0, B * T), ids.subarray(B * T));
  ws.forward(); ws.loss(); ws.backward();
  return { loss: (await w.e.read(ws.losses)).slice(), grads: (await w.e.read(w.grads!)).slice() };
}

describe.each(factories.map((f) => f.name))('%s: training with the lookup', (name) => {
  // Its gradients sum per id first, so they round differently; the losses do not change at all.
  // Every parameter view must agree as a whole and entry by entry (gradcheck.test.ts holds the
  // lookup's gradients to finite differences as well).
  it.each([...CLASSIC, ...RESIDUAL])('%s: the same losses, and the gradients of the products over every position', async (cell) => {
    const e = await engine(name);
    for (const cfg of configs(cell)) {
      const { w, ids } = setup(e, cfg, 11);
      const table = await trainStep(w, ids, true), product = await trainStep(w, ids, false);
      expect(bits(table.loss).equals(bits(product.loss)), JSON.stringify(cfg)).toBe(true);
      for (const v of w.layout.views) {
        const a = table.grads.subarray(v.off, v.off + v.size), b = product.grads.subarray(v.off, v.off + v.size);
        let diff = 0, norm = 0, worst = 0;
        for (let i = 0; i < v.size; i++) {
          diff += (a[i] - b[i]) ** 2; norm += b[i] ** 2;
          worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1e-4 + Math.abs(b[i])));
        }
        expect(Math.sqrt(diff), `${v.name} of ${JSON.stringify(cfg)}`).toBeLessThanOrEqual(1e-5 * Math.sqrt(norm) + 1e-9);
        expect(worst, `${v.name} of ${JSON.stringify(cfg)}`).toBeLessThan(1e-3);
      }
    }
  });
});

describe.each(['gpu.js cpu', 'simd, 1 thread', 'simd, 2 threads forced'])('%s: the inference step', (name) => {
  it.each(CLASSIC)('%s: equals the training forward bit for bit', async (cell) => {
    const e = await engine(name);
    for (const cfg of configs(cell)) {
      const { w, ids } = setup(e, cfg, 8);
      const ref = await chunks(w, true, ids, B, T);
      const session = new InferSession(w, B);
      for (let t = 0; t < 2 * T; t++) {
        const got = await session.step(Array.from(ids.subarray(t * B, (t + 1) * B)));
        const want = ref[Math.floor(t / T)].subarray((t % T) * B * cfg.vocab, (t % T + 1) * B * cfg.vocab);
        expect(bits(got).equals(bits(want)), `${JSON.stringify(cfg)} step ${t}`).toBe(true);
      }
    }
  });
});
