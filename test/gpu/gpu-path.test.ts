// The GPU path end to end, in each mode named by CHARNN_GPU_MODES (scripts/test-gpu.sh runs this
// file once per mode that works here, headless-gl under xvfb-run; on a machine without a GPU
// they run on Mesa's llvmpipe). Against the simd engine as the reference:
// - every cell trains to the same validation loss within 0.01 nats/char (the target) on
//   the same seed and steps, and evaluates the same weights to within 1e-3 bits/char;
// - a training step moves only the batch in and the loss and gradient norm out, and a sampled
//   character only its id in and the logits out, counted below gpu.js (transfers.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Engine } from '../../src/engine/engine-api.js';
import { createGpuJsEngine } from '../../src/engine/gpujs/index.js';
import { createSimdEngine } from '../../src/engine/simd/simd-engine.js';
import { CELLS, isMinCell, type Cell, type ModelConfig } from '../../src/model/config.js';
import { Weights, Workspace } from '../../src/model/model.js';
import { initParams, paramLayout } from '../../src/model/params.js';
import { saveModel, loadModel } from '../../src/model/store.js';
import { evaluateIds } from '../../src/eval/evaluate.js';
import { sample } from '../../src/sample/sample.js';
import { Rng } from '../../src/rng.js';
import { Vocab } from '../../src/text/vocab.js';
import { AdamW } from '../../src/train/optimizer.js';
import { train, } from '../../src/train/loop.js';
import { gpuModes } from '../engines.js';
import { counts, instrumentGl, instrumentWebGpu, resetCounts } from './transfers.js';
import { trainOptions, type FlatTrainOptions } from '../train-options.js';

const TEXT = 'To be, or not to be, that is the question: whether tis nobler in the mind to suffer. ';

function config(cell: Cell, vocab: number): ModelConfig {
  return { cell, vocab, embed: 12, hidden: 24, layers: 2, ...(isMinCell(cell) ? { mlp: 2 } : {}) };
}

function setup(cell: Cell, out: string, dropout = 0): Omit<FlatTrainOptions, 'engine'> {
  const vocab = Vocab.fromText(TEXT);
  const ids = Uint8Array.from(Array.from(TEXT.repeat(6), (ch) => vocab.idOf(ch.codePointAt(0)!)));
  return {
    config: config(cell, vocab.size), vocab, train: ids, val: ids.subarray(0, 160), corpus: 'test', batch: 4, seq: 16,
    batching: 'stream', lr: 1e-2, minLr: 1e-3, warmup: 2, clip: 1, weightDecay: 0.01, dropout, steps: 10, seed: 5,
    evalEvery: 1000, evalChars: 160, patience: 0, out, latest: out + '.latest', saveEvery: 0,
    save: saveModel, load: loadModel,
  };
}

it('CHARNN_GPU_MODES names the modes to check (scripts/test-gpu.sh sets it)', () => {
  expect(gpuModes.length).toBeGreaterThan(0);
});

for (const mode of gpuModes) {
  describe(`gpu.js ${mode} against simd`, () => {
    const dir = mkdtempSync(path.join(tmpdir(), `charnn-gpu-${mode}-`));
    let gpu: Engine, simd: Engine;
    beforeAll(async () => {
      if (mode === 'headlessgl') instrumentGl();
      else await instrumentWebGpu();
      gpu = await createGpuJsEngine(mode);
      simd = await createSimdEngine({ threads: 1 });
    });
    afterAll(() => {
      gpu?.dispose();
      simd?.dispose();
    });

    for (const cell of CELLS) {
      it(`${cell}: 10 training steps reach simd's validation loss, and eval agrees`, async () => {
        const base = setup(cell, path.join(dir, `${cell}-simd.ckpt`), cell === 'lstm' ? 0.1 : 0);
        const ref = await train(trainOptions({ ...base, engine: simd }));
        const got = await train(trainOptions({ ...base, out: path.join(dir, `${cell}-gpu.ckpt`), latest: path.join(dir, `${cell}-gpu.latest`), engine: gpu }));
        expect(Math.abs(got.val_loss! - ref.val_loss!)).toBeLessThan(0.01);
        // The same weights, evaluated by both engines.
        const m = await loadModel(base.out);
        const bpc = async (e: Engine) => {
          const r = await evaluateIds(new Weights(e, m.config, m.params), base.val, { seq: 32 });
          return r.nats / r.chars / Math.LN2;
        };
        expect(Math.abs((await bpc(gpu)) - (await bpc(simd)))).toBeLessThan(1e-3);
      });
    }

    it('a training step moves the batch in and the loss and gradient norm out, nothing more', async () => {
      for (const dropout of [0, 0.2]) {
        const c = config('lstm', 20), B = 4, T = 8, rng = new Rng(3);
        const w = new Weights(gpu, c, initParams(c, paramLayout(c), rng));
        w.enableTraining();
        const ws = new Workspace(w, B, T, true, dropout);
        const opt = new AdamW(w, { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, clip: 1 });
        const ids = Float32Array.from({ length: B * T }, () => rng.int(c.vocab));
        const step = async (s: number) => {
          ws.setInputs(ids, ids);
          if (dropout > 0) ws.drawDropout(rng);
          ws.forward(); ws.loss(); ws.backward();
          await opt.step(s, 1e-3);
          await ws.lossSum();
          ws.carryState();
          await gpu.sync();
        };
        await step(1);
        resetCounts();
        await step(2);
        // ids and targets (plus one dropout mask per layer), then the gradient norm and the losses.
        expect(counts.uploads).toBe(2 + (dropout > 0 ? c.layers : 0));
        expect(counts.downloads).toBe(2);
        expect(counts.launches).toBeGreaterThan(0);
      }
    });

    it('a sampled character moves its id in and the logits out, nothing more', async () => {
      const m = await loadModel(path.join(dir, 'lstm-simd.ckpt'));
      const w = new Weights(gpu, m.config, m.params);
      const run = async (length: number) => {
        resetCounts();
        await sample(w, m.vocab, { prime: 'To', length, temperature: 1, seed: 1 });
        return { ...counts };
      };
      const short = await run(4), long = await run(14);
      // At most one upload per character: gpu.js skips re-uploading an unchanged input (a repeated id).
      expect(long.uploads - short.uploads).toBeGreaterThan(0);
      expect(long.uploads - short.uploads).toBeLessThanOrEqual(10);
      expect(long.downloads - short.downloads).toBe(10);
    });
  });
}
