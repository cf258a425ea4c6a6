// The GRU with normalised gates (--gate-norm): what the norm means (each product's scale drops
// out, so the loss cannot depend on the size of W_x or W_h), that it is a GRU-only setting, and
// that a checkpoint keeps it. Its gradients are checked in gradcheck.test.ts and its inference
// steps against the training forward in infer.test.ts, on every engine.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Engine } from '../src/engine/engine-api.js';
import { validateConfig, type ModelConfig } from '../src/model/config.js';
import { Weights, Workspace } from '../src/model/model.js';
import { initParams, paramLayout } from '../src/model/params.js';
import { loadModel, saveModel } from '../src/model/store.js';
import { Rng } from '../src/rng.js';
import { Vocab } from '../src/text/vocab.js';
import { engineFactories } from './engines.js';

const B = 3, T = 7;

async function meanLoss(e: Engine, cfg: ModelConfig, values: Float32Array, ids: Float32Array, targets: Float32Array): Promise<number> {
  const w = new Weights(e, cfg, values);
  const ws = new Workspace(w, B, T, false);
  try {
    ws.setInputs(ids, targets);
    ws.forward();
    ws.loss();
    return (await ws.lossSum()) / (B * T);
  } finally {
    ws.dispose();
    w.dispose();
  }
}

/** The values with every entry of the named matrices of every layer multiplied by k. */
function scaled(cfg: ModelConfig, values: Float32Array, names: string[], k: number): Float32Array {
  const out = values.slice();
  for (const v of paramLayout(cfg).views) {
    if (names.some((n) => v.name.endsWith(`.${n}`))) for (let i = v.off; i < v.off + v.size; i++) out[i] *= k;
  }
  return out;
}

for (const f of engineFactories) {
  describe(`normalised gates (${f.name})`, () => {
    let e: Engine;
    afterAll(() => e?.dispose());

    it("the scale of W_x and W_h drops out of the loss, which it does not for a plain GRU", async () => {
      e = await f.create();
      const rng = new Rng(3), V = 7;
      const ids = Float32Array.from({ length: B * T }, () => rng.int(V));
      const targets = Float32Array.from({ length: B * T }, () => rng.int(V));
      for (const gateNorm of [true, false]) {
        const cfg = validateConfig({ cell: 'gru', vocab: V, embed: 5, hidden: 6, layers: 2, gateNorm });
        const values = initParams(cfg, paramLayout(cfg), new Rng(11));
        const base = await meanLoss(e, cfg, values, ids, targets);
        const big = await meanLoss(e, cfg, scaled(cfg, values, ['w_x', 'w_h'], 4), ids, targets);
        if (gateNorm) expect(Math.abs(big - base), `${base} vs ${big}`).toBeLessThan(1e-5);
        else expect(Math.abs(big - base)).toBeGreaterThan(1e-3);
      }
    });
  });
}

describe('normalised gates as part of the model', () => {
  it('are refused on other cells and absent from a config without them', () => {
    expect(() => validateConfig({ cell: 'lstm', vocab: 5, embed: 3, hidden: 4, layers: 1, gateNorm: true })).toThrow(/--gate-norm applies to the gates of gru layers/);
    expect('gateNorm' in validateConfig({ cell: 'gru', vocab: 5, embed: 3, hidden: 4, layers: 1, gateNorm: false })).toBe(false);
  });

  it('a checkpoint keeps them with their gains', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'charnn-gate-norm-'));
    const config = validateConfig({ cell: 'gru', vocab: 5, embed: 3, hidden: 4, layers: 2, gateNorm: true });
    const layout = paramLayout(config);
    expect(layout.views.map((v) => v.name).filter((n) => n.includes('norm_'))).toEqual(['gru.0.norm_x', 'gru.0.norm_h', 'gru.1.norm_x', 'gru.1.norm_h']);
    const file = { config, vocab: Vocab.fromText('abcde'), params: initParams(config, layout, new Rng(1)), training: { step: 0, best_val_loss: null, val_loss: null, train_loss: null, chars_seen: 0, seconds: 0, backend: 'js', corpus: 'x', seed: 1, rng: new Rng(1).state() } } as never;
    const ok = path.join(dir, 'ok.ckpt');
    await saveModel(ok, file);
    expect((await loadModel(ok)).config.gateNorm).toBe(true);
  });
});
