// Library-level training checks: the same seed gives the same model; the schedule's shape.
// (Every cell's overfitting test is in cells.test.ts.)
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ModelFile } from '../src/model/serialize.js';
import { saveModel, loadModel } from '../src/model/store.js';
import { Weights } from '../src/model/model.js';
import { sample } from '../src/sample/sample.js';
import { Vocab } from '../src/text/vocab.js';
import { train, } from '../src/train/loop.js';
import { learningRate } from '../src/train/schedule.js';
import { engineFactories } from './engines.js';
import { trainOptions, type FlatTrainOptions } from './train-options.js';

const TEXT = 'To be, or not to be, that is the question: whether tis nobler in the mind to suffer. ';

function setup(seed: number, steps: number, out: string, saved: ModelFile[] = []): Omit<FlatTrainOptions, 'engine'> {
  const vocab = Vocab.fromText(TEXT);
  const ids = Uint8Array.from(Array.from(TEXT.repeat(8), (ch) => vocab.idOf(ch.codePointAt(0)!)));
  return {
    config: { cell: 'lstm', vocab: vocab.size, embed: 16, hidden: 48, layers: 2 }, vocab,
    train: ids, val: ids.subarray(0, 200), corpus: 'test', batch: 8, seq: 48, batching: 'random',
    lr: 1e-2, minLr: 1e-3, warmup: 10, clip: 1, weightDecay: 0, dropout: 0, steps, seed,
    evalEvery: 1000, evalChars: 200, patience: 0, out, latest: out + '.latest', saveEvery: 0,
    save: async (p, f) => { saved.push(f); await saveModel(p, f); }, load: loadModel,
  };
}

describe('training', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'charnn-train-'));

  it('the same seed gives bit-identical checkpoints and the same sample', async () => {
    const f = engineFactories.find((x) => x.name === 'simd, 2 threads')!;
    const runs: { bytes: Buffer; text: string }[] = [];
    for (const run of [0, 1]) {
      const engine = await f.create();
      try {
        const out = path.join(dir, `seed-${run}.ckpt`);
        await train(trainOptions({ ...setup(7, 30, out), engine }));
        const m = await loadModel(out);
        const w = new Weights(engine, m.config, m.params);
        const r = await sample(w, m.vocab, { prime: 'To ', length: 80, temperature: 1, seed: 3 });
        // Only the timing fields may differ: compare the tensors' bytes and the sample.
        runs.push({ bytes: tensorBytes(readFileSync(out)), text: r.text });
      } finally {
        engine.dispose();
      }
    }
    expect(runs[0].bytes.equals(runs[1].bytes)).toBe(true);
    expect(runs[0].text).toBe(runs[1].text);
    expect(runs[0].text.length).toBe(83);
  });

  it('the simd and gpu.js backends reach the same loss on the same seed and steps', async () => {
    const losses: number[] = [];
    for (const name of ['simd, 2 threads', 'gpu.js webasm']) {
      const engine = await engineFactories.find((x) => x.name === name)!.create();
      try {
        const s = await train(trainOptions({ ...setup(3, 40, path.join(dir, `agree-${name.replace(/\W/g, '')}.ckpt`)), engine }));
        losses.push(s.val_loss!);
      } finally {
        engine.dispose();
      }
    }
    // The issue allows 0.01 nats/char; float32 rounding in a different order gives far less.
    expect(Math.abs(losses[0] - losses[1])).toBeLessThan(1e-3);
  });

  it('the schedule warms up linearly and decays by cosine to min-lr', () => {
    const o = { lr: 1, minLr: 0.1, warmup: 10, decay: 'cosine' } as const;
    expect(learningRate(o, 0, 0)).toBeCloseTo(0.1);
    expect(learningRate(o, 4, 0)).toBeCloseTo(0.5);
    expect(learningRate(o, 50, 0.5)).toBeCloseTo(0.55);
    expect(learningRate(o, 50, 0.25)).toBeCloseTo(0.1 + 0.9 * (0.5 + 0.5 * Math.SQRT1_2));
    expect(learningRate(o, 100, 1)).toBeCloseTo(0.1);
  });

  it('with decay-from the rate holds at lr, then falls over the rest of the budget', () => {
    const o = { lr: 1, minLr: 0, warmup: 10, decay: 'linear', decayFrom: 0.6 } as const;
    expect(learningRate(o, 4, 0)).toBeCloseTo(0.5);
    expect(learningRate(o, 50, 0.3)).toBe(1);
    expect(learningRate(o, 50, 0.6)).toBe(1);
    expect(learningRate(o, 50, 0.8)).toBeCloseTo(0.5);
    expect(learningRate(o, 50, 1)).toBeCloseTo(0);
    expect(learningRate({ ...o, decay: 'cosine' }, 50, 0.7)).toBeCloseTo(0.5 + 0.5 * Math.cos(Math.PI / 4));
  });

  it('the linear decay falls in a straight line from lr to min-lr', () => {
    const o = { lr: 1, minLr: 0.1, warmup: 10, decay: 'linear' } as const;
    expect(learningRate(o, 4, 0)).toBeCloseTo(0.5);
    expect(learningRate(o, 50, 0.25)).toBeCloseTo(0.775);
    expect(learningRate(o, 50, 0.5)).toBeCloseTo(0.55);
    expect(learningRate(o, 50, 0.75)).toBeCloseTo(0.325);
    expect(learningRate(o, 100, 1)).toBeCloseTo(0.1);
    expect(learningRate(o, 100, 1.5)).toBeCloseTo(0.1);
  });
});

/** The data section of a safetensors file. */
function tensorBytes(buf: Buffer): Buffer {
  const n = Number(buf.readBigUInt64LE(0));
  return buf.subarray(8 + n);
}
