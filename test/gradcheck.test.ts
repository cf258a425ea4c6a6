// Finite-difference gradient checks, per layer and for the whole model, through every backend.
import { describe, expect, it, afterAll } from 'vitest';
import type { Engine, Tensor } from '../src/engine/engine.js';
import { Rng } from '../src/rng.js';
import { Weights, Workspace } from '../src/model/model.js';
import { initParams, paramLayout } from '../src/model/params.js';
import type { ModelConfig } from '../src/model/config.js';
import { engineFactories } from './engines.js';

const EPS = 1e-2;
// float32 forward passes: central differences are good to ~1e-5 absolute at this step size.
const close = (analytic: number, numeric: number) => Math.abs(analytic - numeric) <= 5e-5 + 1e-2 * Math.abs(numeric);

function randn(n: number, rng: Rng, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

async function dot(e: Engine, t: Tensor, r: Float32Array, off = 0): Promise<number> {
  const v = await e.read(t, off, r.length);
  let s = 0;
  for (let i = 0; i < r.length; i++) s += v[i] * r[i];
  return s;
}

/** Checks d(objective)/d(input) at `count` random positions of `input` against central differences. */
async function checkInput(e: Engine, input: Tensor, analytic: Float32Array, objective: () => Promise<number>, rng: Rng, count = 12) {
  const base = await e.read(input);
  const bad: string[] = [];
  for (let c = 0; c < count; c++) {
    const i = rng.int(base.length);
    const plus = base.slice(); plus[i] += EPS;
    e.write(input, plus);
    const fp = await objective();
    const minus = base.slice(); minus[i] -= EPS;
    e.write(input, minus);
    const fm = await objective();
    e.write(input, base);
    const numeric = (fp - fm) / (2 * EPS);
    if (!close(analytic[i], numeric)) bad.push(`[${i}] analytic ${analytic[i]} numeric ${numeric}`);
  }
  expect(bad).toEqual([]);
}

for (const f of engineFactories) {
  describe(`gradient checks (${f.name})`, () => {
    let e: Engine;
    afterAll(() => e?.dispose());

    it('lstm cell', async () => {
      e = await f.create();
      const rng = new Rng(1), B = 3, H = 5;
      const pre = e.tensor(B * 4 * H), act = e.tensor(B * 4 * H), cPrev = e.tensor(B * H), c = e.tensor(B * H), h = e.tensor(B * H);
      e.write(pre, randn(B * 4 * H, rng)); e.write(cPrev, randn(B * H, rng));
      const rh = randn(B * H, rng), rc = randn(B * H, rng);
      const objective = async () => {
        e.lstmForward({ pre, act, cPrev, c, h, batch: B, hidden: H });
        return (await dot(e, h, rh)) + (await dot(e, c, rc));
      };
      await objective();
      const dh = e.tensor(B * H), dcNext = e.tensor(B * H), dPre = e.tensor(B * 4 * H), dcPrev = e.tensor(B * H);
      e.write(dh, rh); e.write(dcNext, rc);
      e.lstmBackward({ act, cPrev, c, dh, dcNext, dPre, dcPrev, batch: B, hidden: H });
      await checkInput(e, pre, await e.read(dPre), objective, rng, 30);
      await checkInput(e, cPrev, await e.read(dcPrev), objective, rng);
    });

    it('softmax cross-entropy', async () => {
      const rng = new Rng(2), R = 4, V = 7;
      const logits = e.tensor(R * V), targets = e.tensor(R), losses = e.tensor(R), dLogits = e.tensor(R * V);
      e.write(logits, randn(R * V, rng, 2));
      e.write(targets, Float32Array.from({ length: R }, () => rng.int(V)));
      const objective = async () => {
        e.softmaxXent({ logits, targets, losses, rows: R, vocab: V });
        return (await e.read(losses)).reduce((a, b) => a + b, 0) / R;
      };
      e.softmaxXent({ logits, targets, losses, dLogits, rows: R, vocab: V, scale: 1 / R });
      await checkInput(e, logits, await e.read(dLogits), objective, rng, 20);
    });

    it('matmul (all transposes) and embedding', async () => {
      const rng = new Rng(3), M = 3, N = 4, K = 5;
      for (const [transA, transB] of [[false, false], [true, false], [false, true]]) {
        const a = e.tensor(M * K), b = e.tensor(K * N), c = e.tensor(M * N);
        e.write(a, randn(M * K, rng)); e.write(b, randn(K * N, rng));
        const r = randn(M * N, rng);
        const objective = async () => {
          e.matmul({ c, a, b, m: M, n: N, k: K, transA, transB });
          return dot(e, c, r);
        };
        // Gradient of Σ r∘(A·B) w.r.t. A is R·Bᵀ (or B·Rᵀ when A is stored transposed), via the engine itself.
        const r_ = e.tensor(M * N); e.write(r_, r);
        const dA = e.tensor(M * K);
        if (transA) e.matmul({ c: dA, a: b, b: r_, m: K, n: M, k: N, transA: transB, transB: true });
        else e.matmul({ c: dA, a: r_, b, m: M, n: K, k: N, transB: !transB });
        await checkInput(e, a, await e.read(dA), objective, rng);
      }
      const V = 6, D = 3, n = 5;
      const table = e.tensor(V * D), ids = e.tensor(n), out = e.tensor(n * D), dTable = e.tensor(V * D), dOut = e.tensor(n * D);
      e.write(table, randn(V * D, rng));
      e.write(ids, Float32Array.from([1, 4, 1, 0, 5]));
      const r = randn(n * D, rng);
      const objective = async () => {
        e.embedding(out, 0, table, 0, ids, 0, n, D);
        return dot(e, out, r);
      };
      e.write(dOut, r);
      e.embeddingBackward(dTable, 0, dOut, 0, ids, 0, n, D, V);
      await checkInput(e, table, await e.read(dTable), objective, rng, 18);
    });

    it('whole model', async () => {
      const cfg: ModelConfig = { cell: 'lstm', vocab: 6, embed: 3, hidden: 4, layers: 2 };
      const rng = new Rng(4), B = 2, T = 4;
      const values = initParams(cfg, paramLayout(cfg), rng);
      for (let i = 0; i < values.length; i++) values[i] += 0.3 * rng.normal();
      const w = new Weights(e, cfg, values);
      w.enableTraining();
      const ws = new Workspace(w, B, T, true);
      ws.setInputs(
        Float32Array.from({ length: B * T }, () => rng.int(cfg.vocab)),
        Float32Array.from({ length: B * T }, () => rng.int(cfg.vocab)),
      );
      const objective = async () => {
        ws.forward(); ws.loss();
        return (await ws.lossSum()) / (B * T);
      };
      await objective();
      ws.backward();
      const grads = await e.read(w.grads!);
      for (const v of w.layout.views) {
        // Every entry of every view: the model is tiny, and a sampled check can miss one gate.
        // Besides each entry, the view as a whole must agree: a small systematic error in one
        // gate hides under per-entry tolerances but not under a norm-wise one.
        const bad: string[] = [];
        const base = await e.read(w.params);
        let diff = 0, norm = 0;
        for (let i = v.off; i < v.off + v.size; i++) {
          const p = base.slice(); p[i] += EPS; e.write(w.params, p);
          const fp = await objective();
          p[i] -= 2 * EPS; e.write(w.params, p);
          const fm = await objective();
          e.write(w.params, base);
          const numeric = (fp - fm) / (2 * EPS);
          diff += (grads[i] - numeric) ** 2;
          norm += numeric ** 2;
          if (!close(grads[i], numeric)) bad.push(`${v.name}[${i - v.off}] analytic ${grads[i]} numeric ${numeric}`);
        }
        if (Math.sqrt(diff) > 5e-3 * Math.sqrt(norm) + 1e-5) bad.push(`${v.name}: relative error ${Math.sqrt(diff / norm)}`);
        expect(bad).toEqual([]);
      }
    });
  });
}
