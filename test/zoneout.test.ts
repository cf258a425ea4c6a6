// Zoneout on the GRU's state: what training computes (each unit keeps its previous value or takes
// the cell's new one, with probability p and 1 − p), that inference is the expectation of it, and
// that the setting travels with the model (config, checkpoint, flags).
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

const P = 0.4, B = 4, H = 8;

/** One step of a one-layer GRU from state `h0`: the state after it (B × H). */
async function stepFrom(e: Engine, cfg: ModelConfig, values: Float32Array, h0: Float32Array, ids: Float32Array, training: boolean, rng?: Rng): Promise<Float32Array> {
  const w = new Weights(e, cfg, values);
  if (training) w.enableTraining();
  const ws = new Workspace(w, B, 1, training);
  try {
    ws.writeState(new Map([['state.0.h', h0]]));
    ws.setInputs(ids, ids);
    if (rng) ws.drawDropout(rng);
    ws.forward();
    ws.carryState();
    return (await ws.readState()).get('state.0.h')!;
  } finally {
    ws.dispose();
    w.dispose();
  }
}

for (const f of engineFactories) {
  describe(`zoneout (${f.name})`, () => {
    let e: Engine;
    afterAll(() => e?.dispose());

    it('training keeps each unit or updates it, about p of them kept; inference is the expectation', async () => {
      e = await f.create();
      const rng = new Rng(3);
      const plain = validateConfig({ cell: 'gru', vocab: 5, embed: 3, hidden: H, layers: 1 });
      const zoned = validateConfig({ ...plain, zoneout: P });
      const values = initParams(plain, paramLayout(plain), rng);
      for (let i = 0; i < values.length; i++) values[i] += 0.5 * rng.normal();
      const h0 = Float32Array.from({ length: B * H }, () => rng.normal());
      const ids = Float32Array.from({ length: B }, () => rng.int(5));
      const updated = await stepFrom(e, plain, values, h0, ids, true);
      expect(updated.some((x, i) => Math.abs(x - h0[i]) > 1e-3)).toBe(true);

      let kept = 0, total = 0;
      const masks = new Rng(8);
      for (let draw = 0; draw < 60; draw++) {
        const h = await stepFrom(e, zoned, values, h0, ids, true, masks);
        for (let i = 0; i < h.length; i++) {
          // A kept unit is its previous value exactly; an updated one is the plain cell's exactly.
          if (h[i] === h0[i]) kept++;
          else expect(h[i]).toBe(updated[i]);
          total++;
        }
      }
      // 1,920 draws of p = 0.4: the standard deviation of the fraction is 0.011.
      expect(Math.abs(kept / total - P)).toBeLessThan(0.045);

      const expected = await stepFrom(e, zoned, values, h0, ids, false);
      for (let i = 0; i < expected.length; i++) expect(expected[i]).toBeCloseTo(P * h0[i] + (1 - P) * updated[i], 5);
      // Without zoneout, inference is the plain cell.
      const same = await stepFrom(e, plain, values, h0, ids, false);
      for (let i = 0; i < same.length; i++) expect(same[i]).toBeCloseTo(updated[i], 6);
    });
  });
}

describe('zoneout as part of the model', () => {
  it('is refused on cells without a GRU state and beyond 0.95, and absent from a config without it', () => {
    expect(() => validateConfig({ cell: 'lstm', vocab: 5, embed: 3, hidden: 4, layers: 1, zoneout: 0.1 })).toThrow(/--zoneout applies to the state of gru layers; a lstm model/);
    expect(() => validateConfig({ cell: 'gru', vocab: 5, embed: 3, hidden: 4, layers: 1, zoneout: 0.99 })).toThrow(/--zoneout must be a number from 0 to 0.95/);
    expect('zoneout' in validateConfig({ cell: 'gru', vocab: 5, embed: 3, hidden: 4, layers: 1, zoneout: 0 })).toBe(false);
  });

  it('a checkpoint keeps it, and one damaged there is refused naming the file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'charnn-zoneout-'));
    const config = validateConfig({ cell: 'gru', vocab: 5, embed: 3, hidden: 4, layers: 1, zoneout: 0.15 });
    const file = { config, vocab: Vocab.fromText('abcde'), params: initParams(config, paramLayout(config), new Rng(1)), training: { step: 0, best_val_loss: null, val_loss: null, train_loss: null, chars_seen: 0, seconds: 0, backend: 'js', corpus: 'x', seed: 1, rng: new Rng(1).state() } } as never;
    const ok = path.join(dir, 'ok.ckpt');
    await saveModel(ok, file);
    expect((await loadModel(ok)).config.zoneout).toBe(0.15);
    const bad = path.join(dir, 'bad.ckpt');
    await saveModel(bad, { ...(file as object), config: { ...config, zoneout: 2 } } as never);
    await expect(loadModel(bad)).rejects.toThrow(/bad\.ckpt has a damaged model config: zoneout must be a number from 0 to 0.95 \(got 2\)/);
  });
});
