// Every cell: the chunked (parallel, for the minimal cells) forward equals the step-by-step one
// used at inference, a tiny model overfits a short text, and a checkpoint round-trips through
// sample and eval.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CELLS, validateConfig } from '../src/model/config.js';
import { Weights, Workspace } from '../src/model/model.js';
import { initParams, paramLayout } from '../src/model/params.js';
import { loadModel, saveModel } from '../src/model/store.js';
import { evaluateIds } from '../src/eval/evaluate.js';
import { sample } from '../src/sample/sample.js';
import { Vocab } from '../src/text/vocab.js';
import { train } from '../src/train/loop.js';
import { Rng } from '../src/rng.js';
import { createJsEngine } from '../src/engine/js/js-engine.js';
import { createSimdEngine } from '../src/engine/simd/simd-engine.js';
import { trainOptions, type FlatTrainOptions } from './train-options.js';

const TEXT = 'Shall I compare thee to a summer\'s day? Thou art more lovely and more temperate. ';
const dir = mkdtempSync(path.join(tmpdir(), 'charnn-cells-'));

describe.each(CELLS)('%s', (cell) => {
  it('the chunked forward equals the step-by-step forward', async () => {
    const e = createJsEngine();
    const cfg = validateConfig({ cell, vocab: 7, embed: 5, hidden: 6, layers: 2, mlp: 2 });
    const rng = new Rng(21), B = 2, T = 16;
    const w = new Weights(e, cfg, initParams(cfg, paramLayout(cfg), rng));
    const ids = Float32Array.from({ length: B * T }, () => rng.int(cfg.vocab));
    const chunk = new Workspace(w, B, T, false);
    chunk.setInputs(ids);
    chunk.forward();
    const whole = await e.read(chunk.logits);
    const step = new Workspace(w, B, 1, false);
    let maxDiff = 0;
    for (let t = 0; t < T; t++) {
      step.setInputs(ids.subarray(t * B, (t + 1) * B));
      step.forward();
      step.carryState();
      const one = await e.read(step.logits);
      for (let i = 0; i < one.length; i++) maxDiff = Math.max(maxDiff, Math.abs(one[i] - whole[t * B * cfg.vocab + i]));
    }
    // Same arithmetic in a different grouping: float32 rounding only.
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('a tiny model overfits a short text, and its checkpoint samples and evaluates', async () => {
    const engine = await createSimdEngine({ threads: 2 });
    try {
      const vocab = Vocab.fromText(TEXT);
      const ids = Uint8Array.from(Array.from(TEXT.repeat(8), (ch) => vocab.idOf(ch.codePointAt(0)!)));
      const out = path.join(dir, `${cell}.ckpt`);
      const s = await train(trainOptions({
        engine, config: validateConfig({ cell, vocab: vocab.size, embed: 16, hidden: 48, layers: 2, mlp: 2 }), vocab,
        train: ids, val: ids.subarray(0, 200), corpus: 'test', batch: 8, seq: 48, batching: 'random',
        lr: cell === 'rnn' ? 3e-3 : 1e-2, minLr: 1e-3, warmup: 10, clip: 1, weightDecay: 0, dropout: 0, steps: 300, seed: 1,
        evalEvery: 1000, evalChars: 200, patience: 0, out, latest: out + '.latest', saveEvery: 0, save: saveModel, load: loadModel,
      }));
      expect(s.train_loss).toBeLessThan(0.1);
      const m = await loadModel(out);
      expect(m.config.cell).toBe(cell);
      const w = new Weights(engine, m.config, m.params);
      const r = await sample(w, m.vocab, { prime: 'Shall I', length: 60, temperature: 0.5, seed: 1 });
      expect(r.text.startsWith('Shall I compare thee')).toBe(true);
      const ev = await evaluateIds(w, ids.subarray(0, 400));
      expect(ev.chars).toBe(399);
      expect(ev.nats / ev.chars).toBeLessThan(0.2);
    } finally {
      engine.dispose();
    }
  });
});
