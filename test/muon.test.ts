// --optimizer muon: the orthogonalised update of the recurrent matrices (its direction, its size,
// its momentum and decay), AdamW left with the rest, and an exact resume.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Engine } from '../src/engine/engine-api.js';
import { createSimdEngine } from '../src/engine/simd/simd-engine.js';
import { createJsEngine } from '../src/engine/js/js-engine.js';
import { validateConfig } from '../src/model/config.js';
import { Weights } from '../src/model/model.js';
import { paramLayout } from '../src/model/params.js';
import { loadModel, saveModel } from '../src/model/store.js';
import { Rng } from '../src/rng.js';
import { Vocab } from '../src/text/vocab.js';
import { train } from '../src/train/loop.js';
import { MOMENTUM, Muon, muonViews } from '../src/train/muon.js';
import { AdamW } from '../src/train/optimizer.js';
import { trainOptions, type FlatTrainOptions } from './train-options.js';

/** k orthonormal columns of length n (Gram-Schmidt on random vectors), column-major. */
function orthonormal(n: number, k: number, rng: Rng): Float64Array[] {
  const cols: Float64Array[] = [];
  while (cols.length < k) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (const c of cols) { let d = 0; for (let i = 0; i < n; i++) d += v[i] * c[i]; for (let i = 0; i < n; i++) v[i] -= d * c[i]; }
    const norm = Math.hypot(...v);
    cols.push(v.map((x) => x / norm));
  }
  return cols;
}

const paramCount = (c: ReturnType<typeof validateConfig>) => paramLayout(c).total;
const matrixOf = (rows: number, cols: number, f: (i: number, j: number) => number) => Float32Array.from({ length: rows * cols }, (_, q) => f(Math.floor(q / cols), q % cols));

for (const [name, create] of [['simd', () => createSimdEngine({ threads: 1 })], ['js', async () => createJsEngine()]] as const) {
  describe(`Muon (${name})`, () => {
    let e: Engine;
    afterAll(() => e?.dispose());

    // A 1-layer GRU of hidden 6: W_h is 6 × 18, the wide case.
    const cfg = validateConfig({ cell: 'gru', vocab: 4, embed: 3, hidden: 6, layers: 1 });

    it('turns a gradient U·diag(s)·Vᵀ into about U·Vᵀ, scaled to 0.2·sqrt(max side)', async () => {
      e = await create();
      const w = new Weights(e, cfg, new Float32Array(paramCount(cfg)));
      w.enableTraining();
      const [v] = muonViews(w);
      expect(v.name).toBe('gru.0.w_h');
      const [rows, cols] = v.shape, rng = new Rng(5);
      const U = orthonormal(rows, rows, rng), V = orthonormal(cols, rows, rng);
      // Singular values two orders of magnitude apart: plain momentum would follow the largest.
      const s = [10, 3, 1, 0.5, 0.2, 0.1];
      const G = matrixOf(rows, cols, (i, j) => s.reduce((acc, sk, k) => acc + U[k][i] * sk * V[k][j], 0));
      const grads = new Float32Array(w.layout.total);
      grads.set(G, v.off);
      e.write(w.grads!, grads);
      const muon = new Muon(w, [v]);
      await muon.step(1, 0, 1);
      const P = (await e.read(w.params)).subarray(v.off, v.off + v.size);
      const scale = -0.2 * Math.sqrt(Math.max(rows, cols));
      // Uᵀ·O·V: diagonal (the same singular vectors), each entry near 1 (Newton-Schulz's band).
      for (let a = 0; a < rows; a++) {
        for (let b = 0; b < rows; b++) {
          let x = 0;
          for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) x += U[a][i] * (P[i * cols + j] / scale) * V[b][j];
          if (a === b) { expect(x).toBeGreaterThan(0.6); expect(x).toBeLessThan(1.25); } else expect(Math.abs(x)).toBeLessThan(1e-3);
        }
      }
      muon.dispose();
      w.dispose();
    });

    it('keeps Nesterov momentum in the first-moment buffer, scales by the clipping, and decays the weights', async () => {
      const w = new Weights(e, cfg, Float32Array.from({ length: paramCount(cfg) }, () => 1));
      w.enableTraining();
      const [v] = muonViews(w), rng = new Rng(2);
      const g1 = Float32Array.from({ length: v.size }, () => rng.normal()), g2 = Float32Array.from({ length: v.size }, () => rng.normal());
      const muon = new Muon(w, [v]);
      for (const [g, s] of [[g1, 0.5], [g2, 2]] as const) {
        const grads = new Float32Array(w.layout.total);
        grads.set(g, v.off);
        e.write(w.grads!, grads);
        await muon.step(0, 0.1, s);
      }
      const m = (await e.read(w.m!)).subarray(v.off, v.off + v.size);
      for (let i = 0; i < v.size; i++) expect(m[i]).toBeCloseTo(MOMENTUM * 0.5 * g1[i] + 2 * g2[i], 5);
      // A rate of 0: no update, no decay.
      expect((await e.read(w.params, v.off, v.size)).every((x) => x === 1)).toBe(true);
      e.write(w.grads!, new Float32Array(w.layout.total));
      e.write(w.m!, new Float32Array(w.layout.total));
      await muon.step(0.5, 0.1, 1);
      // A zero gradient and momentum: the update is 0 and only the decay acts, W·(1 − lr·wd).
      for (const x of await e.read(w.params, v.off, v.size)) expect(x).toBeCloseTo(0.95, 6);
      muon.dispose();
      w.dispose();
    });

    it('AdamW leaves the recurrent matrices to Muon and updates the rest', async () => {
      const w = new Weights(e, cfg, new Float32Array(paramCount(cfg)));
      w.enableTraining();
      const views = muonViews(w), muon = new Muon(w, views);
      const opt = new AdamW(w, { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, clip: 1, muon });
      e.write(w.grads!, Float32Array.from({ length: w.layout.total }, (_, i) => Math.sin(i)));
      await opt.step(1, 0.01);
      const second = await e.read(w.v!);
      for (const v of w.layout.views) {
        const moved = second.subarray(v.off, v.off + v.size).some((x) => x > 0);
        expect(moved, v.name).toBe(!muon.names.has(v.name));
      }
      const m = await e.read(w.m!), wh = views[0];
      expect(m.subarray(wh.off, wh.off + wh.size).some((x) => x !== 0)).toBe(true);
      opt.dispose(); muon.dispose(); w.dispose();
    });
  });
}

describe('training with --optimizer muon', () => {
  const TEXT = 'It was the best of times, it was the worst of times, it was the age of wisdom. '.repeat(20);
  const dir = mkdtempSync(path.join(tmpdir(), 'charnn-muon-'));
  const options = (name: string, over: Partial<FlatTrainOptions> = {}): Omit<FlatTrainOptions, 'engine'> => {
    const vocab = Vocab.fromText(TEXT);
    const ids = Uint8Array.from(Array.from(TEXT, (ch) => vocab.idOf(ch.codePointAt(0)!)));
    const out = path.join(dir, `${name}.ckpt`);
    return {
      config: { cell: 'gru', vocab: vocab.size, embed: 8, hidden: 24, layers: 2 }, vocab,
      train: ids.subarray(0, 1400), val: ids.subarray(1400), corpus: 'test', batch: 4, seq: 24, batching: 'stream',
      lr: 5e-3, minLr: 0, warmup: 5, clip: 1, weightDecay: 0.1, dropout: 0, steps: 30, seed: 5, evalEvery: 10, evalChars: 200,
      patience: 0, out, latest: out.replace(/\.ckpt$/, '.latest.ckpt'), saveEvery: 0, optimizer: 'muon',
      save: saveModel, load: loadModel, ...over,
    };
  };
  const run = async (o: Omit<FlatTrainOptions, 'engine'>) => {
    const engine = await createSimdEngine({ threads: 2 });
    try { return await train(trainOptions({ ...o, engine })); } finally { engine.dispose(); }
  };

  it('learns, and 30 steps in one run equal 15 + resume 15 bit for bit', async () => {
    const whole = await run(options('whole'));
    expect(whole.val_loss!).toBeLessThan(Math.log(20));
    const first = await run(options('split', { stopAfter: 15 }));
    const second = await run(options('split', { resume: await loadModel(first.latest!) }));
    const a = await loadModel(whole.latest!), b = await loadModel(second.latest!);
    expect(Buffer.from(a.params.buffer).equals(Buffer.from(b.params.buffer))).toBe(true);
    expect(Buffer.from(a.m!.buffer).equals(Buffer.from(b.m!.buffer))).toBe(true);
    expect(a.training.optimizer).toBe('muon');
    // Not AdamW under another name: the same run with AdamW ends elsewhere.
    const adam = await loadModel((await run(options('adam', { optimizer: 'adamw' }))).latest!);
    expect(Buffer.from(adam.params.buffer).equals(Buffer.from(a.params.buffer))).toBe(false);
  });
});
