// Sizing to a time budget: a larger budget never picks a smaller model, the pick respects the
// characters-per-parameter rule, and dropout follows the passes the budget makes over the text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/engine-api.js';
import { createSimdEngine } from '../src/engine/simd/simd-engine.js';
import { validateConfig } from '../src/model/config.js';
import { countParams, paramLayout } from '../src/model/params.js';
import { CHARS_PER_PARAM, CPU_BATCH, GATE_NORM_LR_SCALE, GATE_NORM_ON_CPU, GPU_BATCHES, dropoutForEpochs, sizeToBudget } from '../src/train/autosize.js';
import type { ModelConfig } from '../src/model/config.js';
import { UserError } from '../src/errors.js';

let e: Engine;
beforeAll(async () => { e = await createSimdEngine({ threads: 1 }); });
afterAll(() => e.dispose());

const params = (s: { cell: 'gru'; layers: number; hidden: number; embed: number }) =>
  countParams(paramLayout(validateConfig({ ...s, vocab: 65, mlp: 0 })));

describe('sizeToBudget', () => {
  it('gives a longer budget a model at least as large, and one that sees enough characters', async () => {
    const short = await sizeToBudget(e, 'gru', 65, 1, 1e6, { batch: 8, seq: 32 });
    const long = await sizeToBudget(e, 'gru', 65, 600, 1e6, { batch: 8, seq: 32 });
    expect(params({ cell: 'gru', ...long })).toBeGreaterThan(params({ cell: 'gru', ...short }));
    // The long pick fits its budget: it was not the fallback smallest candidate.
    expect(long.charsPerSec * 600).toBeGreaterThanOrEqual(CHARS_PER_PARAM * params({ cell: 'gru', ...long }));
  }, 120_000);

  it('drops out only when the budget passes over the text several times', async () => {
    const many = await sizeToBudget(e, 'gru', 65, 2, 1000, { batch: 8, seq: 32 });
    const once = await sizeToBudget(e, 'gru', 65, 2, 1e12, { batch: 8, seq: 32 });
    expect(many.dropout).toBeGreaterThan(0);
    expect(once.dropout).toBe(0);
    expect([0, 1.9, 2, 15.9, 16, 100].map(dropoutForEpochs)).toEqual([0, 0, 0.1, 0.1, 0.2, 0.2]);
  }, 60_000);
});

describe('sizeToBudget on a GPU', () => {
  // A device that fills at `full` rows: chars/s grows with the batch up to there, then stays.
  const gpu = { readsBlock: true } as Engine;
  const device = (full: number, tooBig = Infinity) => {
    const seen: number[] = [];
    const measure = async (_: Engine, config: ModelConfig, batch: number, seq: number) => {
      seen.push(batch);
      if (batch > tooBig) throw new UserError('cannot address that many floats');
      const rate = 1e9 / countParams(paramLayout(config));
      return { charsPerSec: rate * Math.min(batch, full), msPerStepMedian: 1000 * batch * seq / (rate * Math.min(batch, full)), steps: 2 };
    };
    return { measure, seen };
  };

  it('climbs the batch ladder while a larger batch trains faster, and records what it measured', async () => {
    const { measure, seen } = device(256);
    const s = await sizeToBudget(gpu, 'gru', 65, 600, 1e6, { measure });
    expect(s.batch).toBe(256);
    expect(s.batches!.map((b) => b.batch)).toEqual([...GPU_BATCHES]);
    expect(s.batches![2].charsPerSec).toBeGreaterThan(1.15 * s.batches![1].charsPerSec);
    // Every size after the ladder is measured at the chosen batch.
    expect(seen.slice(GPU_BATCHES.length).every((b) => b === 256)).toBe(true);
  });

  it('stops at a batch the device cannot hold, and keeps the fixed or CPU batch elsewhere', async () => {
    expect((await sizeToBudget(gpu, 'gru', 65, 600, 1e6, { measure: device(1024, 128).measure })).batch).toBe(128);
    const fixed = await sizeToBudget(gpu, 'gru', 65, 600, 1e6, { batch: 48, measure: device(256).measure });
    expect([fixed.batch, fixed.batches]).toEqual([48, undefined]);
    const cpu = await sizeToBudget({ readsBlock: false } as Engine, 'gru', 65, 600, 1e6, { measure: device(256).measure });
    expect([cpu.batch, cpu.batches]).toEqual([CPU_BATCH, undefined]);
  });

  it('sizes GRUs with normalised gates on a CPU engine and measures them so, plain ones on a GPU and for other cells', async () => {
    const measured = (gpuLike: boolean, cell: 'gru' | 'lstm') => {
      const configs: ModelConfig[] = [];
      const measure = async (_: Engine, config: ModelConfig, batch: number, seq: number) => {
        configs.push(config);
        return { charsPerSec: 1e9 / countParams(paramLayout(config)) * 64, msPerStepMedian: 1, steps: 2, batch, seq };
      };
      return sizeToBudget({ readsBlock: gpuLike } as Engine, cell, 65, 600, 1e6, { measure }).then((s) => ({ s, configs }));
    };
    const cpu = await measured(false, 'gru');
    expect(cpu.s.gateNorm).toBe(GATE_NORM_ON_CPU);
    // The same size plain (on a GPU) takes the family's rate; normalised, a higher one.
    const gpu = await measured(true, 'gru');
    expect([gpu.s.hidden, gpu.s.layers]).toEqual([cpu.s.hidden, cpu.s.layers]);
    expect(cpu.s.lr).toBeCloseTo(gpu.s.lr * (GATE_NORM_ON_CPU ? GATE_NORM_LR_SCALE : 1), 9);
    expect(cpu.configs.every((c) => !!c.gateNorm === GATE_NORM_ON_CPU)).toBe(true);
    for (const [gpuLike, cell] of [[true, 'gru'], [false, 'lstm']] as const) {
      const r = await measured(gpuLike, cell);
      expect(r.s.gateNorm).toBe(false);
      expect(r.configs.some((c) => c.gateNorm)).toBe(false);
    }
  });
});
