// Weight averaging (--ema) and which weights are kept (--keep): the average itself, its wiring in
// the training loop (it never changes training, checkpoints hold it and the online weights), and
// an exact resume with it.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ModelFile } from '../src/model/serialize.js';
import { loadModel, saveModel } from '../src/model/store.js';
import { Vocab } from '../src/text/vocab.js';
import { train } from '../src/train/loop.js';
import { averageDecay, ONLINE, onlineWeights, WeightAverage } from '../src/train/average.js';
import { createSimdEngine } from '../src/engine/simd/simd-engine.js';
import { evaluateIds } from '../src/eval/evaluate.js';
import { Weights } from '../src/model/model.js';
import { trainOptions, type FlatTrainOptions } from './train-options.js';

const TEXT = 'It was the best of times, it was the worst of times, it was the age of wisdom. '.repeat(20);
const dir = mkdtempSync(path.join(tmpdir(), 'charnn-average-'));

function options(name: string, over: Partial<FlatTrainOptions> = {}): Omit<FlatTrainOptions, 'engine'> {
  const vocab = Vocab.fromText(TEXT);
  const ids = Uint8Array.from(Array.from(TEXT, (ch) => vocab.idOf(ch.codePointAt(0)!)));
  const out = path.join(dir, `${name}.ckpt`);
  return {
    config: { cell: 'gru', vocab: vocab.size, embed: 8, hidden: 24, layers: 2 }, vocab,
    train: ids.subarray(0, 1400), val: ids.subarray(1400), corpus: 'test', batch: 4, seq: 24, batching: 'stream',
    lr: 5e-3, minLr: 0, warmup: 5, clip: 1, weightDecay: 0.1, dropout: 0.1, steps: 30, seed: 5, evalEvery: 10, evalChars: 200,
    patience: 0, out, latest: out.replace(/\.ckpt$/, '.latest.ckpt'), saveEvery: 0,
    save: saveModel, load: loadModel, ...over,
  };
}

async function run(o: Omit<FlatTrainOptions, 'engine'>) {
  const engine = await createSimdEngine({ threads: 2 });
  try {
    return await train(trainOptions({ ...o, engine }));
  } finally {
    engine.dispose();
  }
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('WeightAverage', () => {
  it('the average of constant weights is those weights, bit for bit', () => {
    const w = Float32Array.from({ length: 100 }, (_, i) => Math.sin(i) * 3.7);
    const a = new WeightAverage(0.999, w, w);
    for (let step = 1; step <= 500; step++) a.update(w, step);
    expect(same(a.values, w)).toBe(true);
  });

  it('folds each update in with the warmed-up decay', () => {
    expect(averageDecay(0.999, 1)).toBeCloseTo(2 / 11, 12);
    expect(averageDecay(0.999, 10)).toBeCloseTo(11 / 20, 12);
    expect(averageDecay(0.999, 1e6)).toBe(0.999);
    const a = new WeightAverage(0.5, new Float32Array([0, 4]), new Float32Array([0, 4]));
    a.update(new Float32Array([1, 0]), 1); // decay 2/11: a = 2/11 · a + 9/11 · w
    expect(a.values[0]).toBeCloseTo(9 / 11, 6);
    expect(a.values[1]).toBeCloseTo(8 / 11, 6);
    a.update(new Float32Array([1, 0]), 100); // decay 0.5
    expect(a.values[0]).toBeCloseTo(0.5 * (9 / 11) + 0.5, 6);
    expect(a.values[1]).toBeCloseTo(0.5 * (8 / 11), 6);
  });

  it('puts the online weights back after running with the average', async () => {
    const e = await createSimdEngine({ threads: 1 });
    try {
      const t = e.tensor(3);
      const online = new Float32Array([1, 2, 3]);
      e.write(t, online);
      const a = new WeightAverage(0.9, new Float32Array([7, 8, 9]), online);
      const seen = await a.applied(e, t, () => e.read(t));
      expect(Array.from(seen)).toEqual([7, 8, 9]);
      expect(Array.from(await e.read(t))).toEqual([1, 2, 3]);
    } finally {
      e.dispose();
    }
  });
});

describe('training with --ema', () => {
  it('never changes training: the online weights are those of a run without it, and the average differs', async () => {
    const plain = await run(options('plain'));
    const avg = await run(options('avg', { ema: 0.9 }));
    const p = await loadModel(plain.latest!), a = await loadModel(avg.latest!);
    expect(p.extra?.has(ONLINE)).toBe(false);
    expect(same(onlineWeights(a), p.params)).toBe(true);
    expect(same(a.params, p.params)).toBe(false);
    expect(a.training.ema).toBe(0.9);
  });

  it('each saved average is the previous one with the online weights folded in', async () => {
    const saved: ModelFile[] = [];
    await run(options('each', { ema: 0.95, steps: 12, saveEvery: 1, evalEvery: 100, save: async (p, f) => { if (p.endsWith('.latest.ckpt')) saved.push(f); await saveModel(p, f); } }));
    const byStep = new Map(saved.map((f) => [f.training.step, f]));
    for (let step = 2; step <= 12; step++) {
      const prev = byStep.get(step - 1)!, cur = byStep.get(step)!;
      const expected = Float32Array.from(prev.params);
      const k = 1 - averageDecay(0.95, step), w = onlineWeights(cur);
      for (let i = 0; i < expected.length; i++) expected[i] += k * (w[i] - expected[i]);
      expect(same(cur.params, expected)).toBe(true);
    }
  });

  it('the reported validation loss is the averaged weights\' whole-split loss', async () => {
    const o = options('report', { ema: 0.9, keep: 'final' });
    const s = await run(o);
    const kept = await loadModel(o.out), last = await loadModel(s.latest!);
    expect(same(kept.params, last.params)).toBe(true);
    const engine = await createSimdEngine({ threads: 2 });
    try {
      const w = new Weights(engine, kept.config, kept.params);
      const r = await evaluateIds(w, o.val);
      expect(r.nats / r.chars).toBeCloseTo(s.val_loss!, 6);
      w.dispose();
    } finally {
      engine.dispose();
    }
  });

  it('30 steps in one run equal 15 + resume 15, average and online weights bit for bit', async () => {
    const whole = await run(options('whole', { ema: 0.9 }));
    const first = await run(options('split', { ema: 0.9, stopAfter: 15 }));
    const resumed = await loadModel(first.latest!);
    expect(resumed.training.step).toBe(15);
    const second = await run(options('split', { ema: 0.9, resume: resumed }));
    const a = await loadModel(whole.latest!), b = await loadModel(second.latest!);
    expect(same(a.params, b.params)).toBe(true);
    expect(same(onlineWeights(a), onlineWeights(b))).toBe(true);
    expect(same((await loadModel(whole.checkpoint)).params, (await loadModel(second.checkpoint)).params)).toBe(true);
    expect(second.val_loss).toBe(whole.val_loss);
  });
});

describe('--keep', () => {
  it('best keeps the lowest estimate\'s weights, final the last step\'s', async () => {
    // A rate this high leaves the last estimate (step 40) above step 35's.
    const over = { lr: 0.2, minLr: 0.2, steps: 40, evalEvery: 5 };
    const b = options('keep-best', over), f = options('keep-final', { ...over, keep: 'final' });
    const sb = await run(b), sf = await run(f);
    const kb = await loadModel(b.out), kf = await loadModel(f.out), last = await loadModel(sf.latest!);
    expect(kb.training.step).toBe(kb.training.best_step);
    expect(kb.training.step).toBeLessThan(40);
    expect(kf.training.step).toBe(40);
    expect(same(kf.params, last.params)).toBe(true);
    expect(sf.val_loss).not.toBe(sb.val_loss);
  });
});
