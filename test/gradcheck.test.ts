// Finite-difference gradient checks, per layer and for the whole model, through every backend.
import { describe, expect, it, afterAll } from 'vitest';
import type { Engine, Tensor } from '../src/engine/engine-api.js';
import { Rng } from '../src/rng.js';
import { Weights, Workspace } from '../src/model/model.js';
import { initParams, paramLayout } from '../src/model/params.js';
import { validateConfig, type Cell, type ModelConfig } from '../src/model/config.js';
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

    it('gru cell', async () => {
      const rng = new Rng(11), B = 3, H = 5;
      const gx = e.tensor(B * 3 * H), gh = e.tensor(B * 3 * H), hPrev = e.tensor(B * H), act = e.tensor(B * 3 * H), h = e.tensor(B * H);
      e.write(gx, randn(B * 3 * H, rng)); e.write(gh, randn(B * 3 * H, rng)); e.write(hPrev, randn(B * H, rng));
      const r = randn(B * H, rng);
      const objective = async () => {
        e.gruForward({ gx, gh, hPrev, act, h, batch: B, hidden: H });
        return dot(e, h, r);
      };
      await objective();
      const dh = e.tensor(B * H), dGx = e.tensor(B * 3 * H), dGh = e.tensor(B * 3 * H), dhPrev = e.tensor(B * H);
      e.write(dh, r);
      e.gruBackward({ act, gh, hPrev, dh, dGx, dGh, dhPrev, batch: B, hidden: H });
      await checkInput(e, gx, await e.read(dGx), objective, rng, 30);
      await checkInput(e, gh, await e.read(dGh), objective, rng, 30);
      await checkInput(e, hPrev, await e.read(dhPrev), objective, rng);
    });

    for (const cell of ['mingru', 'minlstm'] as const) it(`${cell} scan`, async () => {
      const rng = new Rng(12), B = 2, H = 3, T = 5, k = cell === 'mingru' ? 2 : 3;
      const proj = e.tensor(T * B * k * H), act = e.tensor(T * B * k * H), h = e.tensor((T + 1) * B * H);
      // Keep pre-activations of g away from its kink at 0, where central differences are wrong.
      const pv = randn(T * B * k * H, rng);
      for (let i = 0; i < pv.length; i++) if (Math.abs(pv[i]) < 0.1) pv[i] += 0.2;
      e.write(proj, pv);
      e.write(h, randn(B * H, rng));
      const r = randn(T * B * H, rng);
      const objective = async () => {
        e.minScanForward({ cell, proj, act, h, steps: T, batch: B, hidden: H });
        return dot(e, h, r, B * H);
      };
      await objective();
      const dh = e.tensor(T * B * H), dProj = e.tensor(T * B * k * H);
      e.write(dh, r);
      e.minScanBackward({ cell, proj, act, h, dh, dProj, steps: T, batch: B, hidden: H });
      await checkInput(e, proj, await e.read(dProj), objective, rng, 40);
    });

    it('rmsnorm, gelu, tanh', async () => {
      const rng = new Rng(13), R = 3, C = 6;
      const x = e.tensor(R * C), w = e.tensor(C), out = e.tensor(R * C), rstd = e.tensor(R);
      e.write(x, randn(R * C, rng)); e.write(w, randn(C, rng));
      const r = randn(R * C, rng);
      const objective = async () => {
        e.rmsNormForward({ x, w, out, rstd, rows: R, cols: C, eps: 1e-6 });
        return dot(e, out, r);
      };
      await objective();
      const dOut = e.tensor(R * C), dx = e.tensor(R * C), dw = e.tensor(C);
      e.write(dOut, r);
      e.rmsNormBackward({ x, w, rstd, dOut, dx, dw, rows: R, cols: C });
      await checkInput(e, x, await e.read(dx), objective, rng, 18);
      await checkInput(e, w, await e.read(dw), objective, rng, 6);
      for (const [fwd, bwd] of [['geluForward', 'geluBackward'], ['tanhForward', 'tanhBackward']] as const) {
        const n = 9, a = e.tensor(n), y = e.tensor(n), g = e.tensor(n), da = e.tensor(n);
        e.write(a, randn(n, rng, 2));
        const rr = randn(n, rng);
        const obj = async () => {
          e[fwd]({ out: y, x: a, len: n });
          return dot(e, y, rr);
        };
        await obj();
        e.write(g, rr);
        if (bwd === 'geluBackward') e.geluBackward({ dx: da, x: a, dy: g, len: n });
        else e.tanhBackward({ dx: da, y, dy: g, len: n });
        await checkInput(e, a, await e.read(da), obj, rng, 9);
        if (fwd === 'geluForward') {
          // The backward pass from the exp(−2u) the forward pass kept.
          const kept = e.tensor(n);
          e.geluForward({ out: y, x: a, len: n, e: kept });
          e.geluBackward({ dx: da, x: a, dy: g, len: n, e: kept });
          await checkInput(e, a, await e.read(da), obj, rng, 9);
        }
      }
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
        e.embedding({ out, table, ids, n, dim: D });
        return dot(e, out, r);
      };
      e.write(dOut, r);
      e.embeddingBackward({ dTable, dOut, ids, n, dim: D, vocab: V });
      await checkInput(e, table, await e.read(dTable), objective, rng, 18);
    });

    // The vocabulary is smaller than a chunk, so the first layer's input products run on vocab
    // rows (the lookup); `false` keeps them over every position.
    const variants: [Cell, number, number, number, boolean, number, number?, boolean?][] = [
      // cell, dropout, embed, mlp, lookup, weight drop, zoneout, gate norm
      ['lstm', 0, 3, 0, true, 0], ['lstm', 0.3, 3, 0, true, 0], ['gru', 0, 3, 0, true, 0], ['rnn', 0, 3, 0, true, 0],
      ['mingru', 0, 3, 2, true, 0], ['minlstm', 0.3, 3, 2, true, 0], ['mingru', 0, 4, 0, true, 0],
      ['gru', 0, 3, 0, false, 0], ['mingru', 0, 3, 2, false, 0], ['minlstm', 0, 4, 0, false, 0],
      ['lstm', 0, 3, 0, true, 0.4], ['gru', 0.3, 3, 0, true, 0.4], ['rnn', 0, 3, 0, true, 0.4],
      ['gru', 0, 3, 0, true, 0, 0.4], ['gru', 0.3, 3, 0, false, 0.4, 0.4],
      ['gru', 0, 3, 0, true, 0, 0, true], ['gru', 0.3, 3, 0, false, 0.4, 0.4, true],
    ];
    for (const [cell, dropout, embed, mlp, lookup, weightDrop, zoneout, gateNorm] of variants) it(`whole model: ${cell}${gateNorm ? ' with normalised gates' : ''}${dropout ? ' with dropout' : ''}${weightDrop ? ' with weight drop' : ''}${zoneout ? ' with zoneout' : ''}${mlp ? ' and MLP' : ''}${embed === 4 ? ', no stem' : ''}${lookup ? '' : ', products over every position'}`, async () => {
      const cfg: ModelConfig = validateConfig({ cell, vocab: 6, embed, hidden: 4, layers: 2, mlp, zoneout, gateNorm });
      const rng = new Rng(4), B = 2, T = 4;
      const values = initParams(cfg, paramLayout(cfg), rng);
      for (let i = 0; i < values.length; i++) values[i] += 0.3 * rng.normal();
      const w = new Weights(e, cfg, values);
      w.enableTraining();
      const ws = new Workspace(w, B, T, true, dropout, { lookup, weightDrop });
      // One fixed mask for every evaluation of the objective.
      if (dropout || weightDrop || zoneout) ws.drawDropout(new Rng(9));
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
        const central = async (i: number, eps: number) => {
          const p = base.slice(); p[i] += eps; e.write(w.params, p);
          const fp = await objective();
          p[i] -= 2 * eps; e.write(w.params, p);
          const fm = await objective();
          e.write(w.params, base);
          return (fp - fm) / (2 * eps);
        };
        for (let i = v.off; i < v.off + v.size; i++) {
          let numeric = await central(i, EPS);
          // minGRU's g(x) has a kink at 0: a step that straddles it misleads the estimate, and a
          // four times smaller step then agrees. A wrong gradient agrees with neither.
          for (const smaller of [4, 16]) if (!close(grads[i], numeric)) numeric = await central(i, EPS / smaller);
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
