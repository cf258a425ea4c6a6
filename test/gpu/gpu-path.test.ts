// The GPU path end to end, in each mode named by CHARNN_GPU_MODES (scripts/test-gpu.sh runs this
// file once per mode that works here, headless-gl under xvfb-run; on a machine without a GPU
// they run on Mesa's llvmpipe). Against the simd engine as the reference:
// - every cell trains to the same validation loss within 0.01 nats/char (the target) on
//   the same seed and steps, and evaluates the same weights to within 1e-3 bits/char;
// - a training step moves only the batch in and reads nothing back until its numbers are asked
//   for (then one read brings every step's), and a sampled character moves only its id in and the
//   logits out, counted below gpu.js (transfers.ts);
// - a training step launches at most the bounds: 2·L·T + 64 kernels for the LSTM and GRU
//   2×256 at T = 64, 20·L + L·⌈log₂T⌉ + 64 for the minGRU of 3 layers, with no blocking download;
// - bench --speed --json reports the shape and those counts, and the GPU report prints its table.
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
import { StepStats } from '../../src/train/step-stats.js';
import { measureTrainSpeed } from '../../src/train/throughput.js';
import { train } from '../../src/train/loop.js';
import { spawnSync } from 'node:child_process';
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

    it('a quiet training step moves the batch in and reads nothing; one read brings every step\'s numbers', async () => {
      for (const dropout of [0, 0.2]) {
        const c = config('lstm', 20), B = 4, T = 8, rng = new Rng(3);
        const w = new Weights(gpu, c, initParams(c, paramLayout(c), rng));
        w.enableTraining();
        const ws = new Workspace(w, B, T, true, dropout);
        const opt = new AdamW(w, { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, clip: 1 });
        const stats = new StepStats(ws, opt);
        const ids = Float32Array.from({ length: B * T }, () => rng.int(c.vocab));
        const step = async (s: number) => {
          ws.setInputs(ids, ids);
          if (dropout > 0) ws.drawDropout(rng);
          ws.forward(); ws.loss(); ws.backward();
          await stats.update(s, 1e-3);
          ws.carryState();
          expect(stats.take(false)).toEqual([]);
        };
        await step(1);
        await stats.drain();
        resetCounts();
        for (let s = 2; s <= 4; s++) await step(s);
        await gpu.sync();
        // ids and targets (plus one dropout mask per layer) a step; nothing read back.
        expect(counts.uploads).toBe(3 * (2 + (dropout > 0 ? c.layers : 0)));
        expect(counts.downloads).toBe(0);
        const records = await stats.drain();
        expect(counts.downloads).toBe(1);
        expect(records.map((r) => r.step)).toEqual([2, 3, 4]);
        for (const r of records) {
          expect(r.loss).toBeGreaterThan(0);
          expect(r.gradNorm).toBeGreaterThan(0);
        }
        stats.dispose(); opt.dispose(); ws.dispose(); w.dispose();
      }
    });

    // The targets, at its shapes: the launches of a step grow with T through the
    // recurrence (one kernel per layer and timestep each way) or, for the minimal cells, only
    // through the scan.
    const bounds: [string, ModelConfig, number][] = [
      ['LSTM 2×256', { cell: 'lstm', vocab: 65, embed: 64, hidden: 256, layers: 2 }, 2 * 2 * 64 + 64],
      ['GRU 2×256', { cell: 'gru', vocab: 65, embed: 64, hidden: 256, layers: 2 }, 2 * 2 * 64 + 64],
      ['minGRU 3×64 (MLP 2)', { cell: 'mingru', vocab: 65, embed: 32, hidden: 64, layers: 3, mlp: 2 }, 20 * 3 + 3 * Math.ceil(Math.log2(64)) + 64],
    ];
    for (const [label, c, bound] of bounds) {
      it(`${label} at T = 64: at most ${bound} launches a step, the batch in, nothing read`, async () => {
        let step = { ...counts };
        await measureTrainSpeed(gpu, c, 1, 64, 1, 1, (phase) => {
          if (phase === 'start') resetCounts();
          else step = { ...counts };
        });
        expect(step.launches).toBeLessThanOrEqual(bound);
        expect(step.launches).toBeGreaterThan(2 * c.layers * (isMinCell(c.cell) ? 1 : 64) - 1);
        expect(step.uploads).toBe(2);
        expect(step.downloads).toBe(0);
      });
    }

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

// The product's own reports, run once per mode (each spawns the CLI, which probes every backend).
function charnn(args: string[], o: { timeout: number }) {
  return spawnSync(process.execPath, ['bin/charnn.js', ...args], { encoding: 'utf8', timeout: o.timeout });
}

for (const mode of gpuModes) {
  describe(`reports on gpu.js ${mode}`, () => {
    it('bench --speed --json gives the GPU backend\'s shape and per-step counts', () => {
      const r = charnn(['bench', '--speed', '--json', '--model', 'lstm', '--layers', '1', '--hidden', '8', '--embed', '8', '--batch', '2', '--seq', '4', '--vocab', '12', '--steps', '1', '--backends', 'js'], { timeout: 600_000 });
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const row = lines.find((l) => l.type === 'backend' && l.backend === mode)!;
      expect(row.works).toBe(true);
      expect(row.shape).toEqual({ cell: 'lstm', layers: 1, hidden: 8, batch: 2, seq: 4 });
      expect(row.uploads_per_step).toBe(2);
      expect(row.blocking_downloads_per_step).toBe(0);
      // One kernel per timestep each way, and a bounded rest.
      expect(row.launches_per_step).toBeGreaterThanOrEqual(2 * 4);
      expect(row.launches_per_step).toBeLessThanOrEqual(2 * 1 * 4 + 64);
    });

    it('scripts/gpu-report.sh prints the markdown table (small sizes: a smoke test)', () => {
      const r = spawnSync('bash', ['scripts/gpu-report.sh', '--backends', `cpu,${mode}`, '--hidden', '8', '--batch', '2', '--seq', '4', '--steps', '1'], {
        encoding: 'utf8', timeout: 900_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const rows = r.stdout.split('\n').filter((l) => /^\| (cpu|webgpu|headlessgl) \|/.test(l));
      // LSTM, GRU and minGRU, each on both backends.
      expect(rows).toHaveLength(6);
      for (const row of rows.filter((l) => l.startsWith(`| ${mode} |`))) {
        const cells = row.split('|').map((x) => x.trim());
        // train, sample chars/s, then launches, uploads, blocking downloads.
        expect(Number(cells[5].replace(/,/g, ''))).toBeGreaterThan(0);
        expect(Number(cells[6].replace(/,/g, ''))).toBeGreaterThan(0);
        expect(Number(cells[7])).toBeGreaterThan(0);
        expect([cells[8], cells[9]]).toEqual(['2', '0']);
      }
    });
  });
}
