// Exact resume, interruption, failing saves and divergence, through the library.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ModelFile } from '../src/model/serialize.js';
import { loadModel, saveModel } from '../src/model/store.js';
import { Vocab } from '../src/text/vocab.js';
import { train, TrainingDiverged, } from '../src/train/loop.js';
import type { Batching } from '../src/train/batch.js';
import { createSimdEngine } from '../src/engine/simd/simd-engine.js';
import { resumedBest, resumeSettings } from '../src/train/resume.js';
import { TRAIN_SETTINGS, type TrainSettings } from '../src/model/settings.js';
import { trainOptions, type FlatTrainOptions } from './train-options.js';

const TEXT = 'It was the best of times, it was the worst of times, it was the age of wisdom. '.repeat(20);
const dir = mkdtempSync(path.join(tmpdir(), 'charnn-resume-'));

function options(name: string, over: Partial<FlatTrainOptions> = {}): Omit<FlatTrainOptions, 'engine'> {
  const vocab = Vocab.fromText(TEXT);
  const ids = Uint8Array.from(Array.from(TEXT, (ch) => vocab.idOf(ch.codePointAt(0)!)));
  const out = path.join(dir, `${name}.ckpt`);
  return {
    config: { cell: 'lstm', vocab: vocab.size, embed: 8, hidden: 24, layers: 2 }, vocab,
    train: ids.subarray(0, 1400), val: ids.subarray(1400), corpus: 'test', batch: 4, seq: 24, batching: 'random',
    lr: 5e-3, minLr: 5e-4, warmup: 5, clip: 1, weightDecay: 0.1, dropout: 0, steps: 40, seed: 5, evalEvery: 10, evalChars: 200,
    patience: 0, out, latest: out.replace(/\.ckpt$/, '.latest.ckpt'), saveEvery: 0,
    save: saveModel, load: loadModel, ...over,
  };
}

const data = (file: string) => {
  const b = readFileSync(file);
  return b.subarray(8 + Number(b.readBigUInt64LE(0)));
};

async function run(o: Omit<FlatTrainOptions, 'engine'>) {
  const engine = await createSimdEngine({ threads: 2 });
  try {
    return await train(trainOptions({ ...o, engine }));
  } finally {
    engine.dispose();
  }
}

describe('resume', () => {
  for (const batching of ['random', 'stream'] as Batching[]) {
    it(`40 steps in one run equal 20 + resume 20, bit for bit (${batching})`, async () => {
      // Dropout on the streamed variant: its mask stream must resume exactly too.
      const dropout = batching === 'stream' ? 0.2 : 0;
      const decay = batching === 'stream' ? 'linear' : 'cosine';
      await run(options(`whole-${batching}`, { batching, dropout, decay }));
      const first = await run(options(`split-${batching}`, { batching, dropout, decay, stopAfter: 20 }));
      expect(first.stopped).toBe('stop-after');
      const resumed = await loadModel(first.latest);
      expect(resumed.training.step).toBe(20);
      await run(options(`split-${batching}`, { batching, dropout, decay, resume: resumed }));
      expect(data(path.join(dir, `split-${batching}.latest.ckpt`)).equals(data(path.join(dir, `whole-${batching}.latest.ckpt`)))).toBe(true);
      expect(data(path.join(dir, `split-${batching}.ckpt`)).equals(data(path.join(dir, `whole-${batching}.ckpt`)))).toBe(true);
    });
  }

  it('an interruption saves the latest state after the current step', async () => {
    let polls = 0;
    const s = await run(options('interrupt', { shouldStop: () => ++polls > 7 }));
    expect(s.stopped).toBe('interrupted');
    expect(s.steps).toBe(7);
    expect((await loadModel(s.latest)).training.step).toBe(7);
  });

  it('an abort cuts an estimate short (not compared, no best), never the save of the latest state', async () => {
    const stop = new AbortController();
    const events: string[] = [];
    const s = await run(options('cut-estimate', {
      signal: stop.signal,
      shouldStop: () => stop.signal.aborted,
      // Step 10 is followed by an estimate: abort as it starts.
      onEvent: (ev) => {
        events.push(ev.type);
        if (ev.type === 'step' && ev.step === 10) stop.abort();
      },
    }));
    expect(s.stopped).toBe('interrupted');
    expect(events).not.toContain('eval');
    expect(s.best_eval_loss).toBeNull();
    expect((await loadModel(s.latest!)).training.step).toBe(10);
  });

  it('an abort during the final pass leaves the best weights saved, unscored', async () => {
    const stop = new AbortController();
    const o = options('cut-final', { signal: stop.signal, onEvent: (ev) => { if (ev.type === 'final-eval') stop.abort(); } });
    const s = await run(o);
    expect(s.stopped).toBe('interrupted');
    expect(s.val_loss).toBeNull();
    const kept = await loadModel(o.out);
    expect(kept.training.step).toBe(s.best_step);
    expect(kept.training.val_loss).toBeNull();
    expect((await loadModel(o.latest)).training.step).toBe(40);
  });

  it('a latest state keeps a copy of the best weights when they are not its own, and a resume scores them', async () => {
    // Steps 1-20 with estimates at 10 and 20; 21-25 without: the latest state (25) is not the best.
    const o = options('held', { stopAfter: 20 });
    await run(o);
    const mid = await loadModel(o.latest);
    await run(options('held', { resume: mid, stopAfter: 5, evalEvery: 1000 }));
    const latest = await loadModel(o.latest);
    const best = await loadModel(o.out);
    expect(latest.training.step).toBe(25);
    expect(latest.extra!.get('best.params')).toEqual(best.params);
    expect(resumedBest(latest)!.params).toEqual(best.params);
    // Resumed onto another model's file, at a rate that only makes things worse: the held best is scored and written.
    const elsewhere = path.join(dir, 'held-elsewhere.ckpt');
    await run(options('held-other', { out: elsewhere, latest: path.join(dir, 'held-other.latest.ckpt'), seed: 9, steps: 5 }));
    const wrecked = await run(options('held', { resume: latest, out: elsewhere, steps: 26, lr: 2, minLr: 2, warmup: 0 }));
    expect(wrecked.best_step).toBe(best.training.step);
    expect((await loadModel(elsewhere)).params).toEqual(best.params);
  });

  it('a failing save is reported, keeps the previous file, and training goes on', async () => {
    const events: string[] = [];
    let saves = 0;
    const o = options('failing', {
      save: async (p, f) => {
        if (++saves === 2) throw new Error('disk full');
        await saveModel(p, f);
      },
      onEvent: (ev) => { if (ev.type === 'save-failed') events.push(ev.message); },
    });
    const s = await run(o);
    expect(events).toEqual(['disk full']);
    expect(s.steps).toBe(40);
    expect((await loadModel(o.out)).training.step).toBeGreaterThan(0);
  });

  it('a learning rate of 1e6 stops with the divergence message and leaves the checkpoint intact', async () => {
    const good = options('diverge');
    await run(good);
    const before = readFileSync(good.out);
    const file: ModelFile = await loadModel(good.out);
    await expect(run(options('diverge', { lr: 1e6, minLr: 1e6, warmup: 0, steps: 80, resume: file }))).rejects.toThrow(TrainingDiverged);
    await expect(run(options('diverge', { lr: 1e6, minLr: 1e6, warmup: 0, steps: 80, resume: file }))).rejects.toThrow(/lower learning rate/);
    expect(readFileSync(good.out).equals(before)).toBe(true);
    expect(existsSync(good.out)).toBe(true);
  });

  it('patience stops after that many estimates without improvement', async () => {
    // A learning rate this small cannot improve the estimate by a float's worth after the first.
    const s = await run(options('patience', { lr: 1e-12, minLr: 1e-12, steps: 1000, evalEvery: 2, patience: 3 }));
    expect(s.stopped).toBe('patience');
    expect(s.steps).toBeLessThan(1000);
  });
});

describe('resume rules', () => {
  const defaults = () => Object.fromEntries(TRAIN_SETTINGS.filter((x) => x.default !== undefined).map((x) => [x.key, x.default])) as unknown as TrainSettings;
  const file = (training: Record<string, unknown>) => ({
    config: { cell: 'gru', vocab: 5, embed: 4, hidden: 8, layers: 1 }, vocab: Vocab.fromText('abcde'), params: new Float32Array(1),
    m: new Float32Array(1), v: new Float32Array(1), training: { step: 3, lr: 0.01, ...training },
  }) as unknown as ModelFile;

  it('a checkpoint written before a setting was recorded resumes with what it ran with, not the default', () => {
    // Before they were recorded, runs decayed by cosine and drew random windows.
    const { settings } = resumeSettings(defaults(), () => false, file({}), 'old.ckpt');
    expect(settings.decay).toBe('cosine');
    expect(settings.batching).toBe('random');
    expect(settings.lr).toBe(0.01);
  });

  it('a recorded mutable setting is kept unless given again, and a change is named', () => {
    const recorded = file({ decay: 'linear', batching: 'stream' });
    expect(resumeSettings({ ...defaults(), decay: 'cosine' }, () => false, recorded, 'a.ckpt').settings.decay).toBe('linear');
    const r = resumeSettings({ ...defaults(), decay: 'cosine' }, (k) => k === 'decay', recorded, 'a.ckpt');
    expect(r.settings.decay).toBe('cosine');
    expect(r.changes).toEqual(['--decay cosine (was linear)']);
  });

  it('a fixed setting given against the checkpoint is refused, a switch in words and a value by value', () => {
    const plain = file({});
    expect(() => resumeSettings({ ...defaults(), gateNorm: true }, (k) => k === 'gateNorm', plain, 'a.ckpt'))
      .toThrow('--gate-norm contradicts a.ckpt, which was trained without it; leave the flag out to resume');
    expect(() => resumeSettings({ ...defaults(), hidden: 9 }, (k) => k === 'hidden', plain, 'a.ckpt'))
      .toThrow('--hidden 9 contradicts a.ckpt, which was trained with 8; leave the flag out to resume');
    expect(resumeSettings({ ...defaults(), hidden: 8 }, (k) => k === 'hidden', plain, 'a.ckpt').settings.hidden).toBe(8);
  });
});
