// Dynamic evaluation: every character is scored before any update that has seen it. Checked three
// ways: changing the text after a point changes no score before it; the first segment scores as
// static evaluation does; a learning rate of 0 is static evaluation bit for bit. And it adapts: a
// text whose second half repeats its first is scored much better the second time.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/engine-api.js';
import { createJsEngine } from '../src/engine/js/js-engine.js';
import { createSimdEngine } from '../src/engine/simd/simd-engine.js';
import { evaluateDynamic, trainingMeanSquares } from '../src/eval/dynamic.js';
import { evaluateFile } from '../src/eval/evaluate.js';
import { validateConfig, type Cell } from '../src/model/config.js';
import { Weights } from '../src/model/model.js';
import { initParams, paramLayout } from '../src/model/params.js';
import { loadModel, saveModel } from '../src/model/store.js';
import { Rng } from '../src/rng.js';
import { CharTokenizer, Vocab } from '../src/text/index.js';
import type { Document } from '../src/text/documents.js';
import { train } from '../src/train/loop.js';
import { trainOptions } from './train-options.js';

const dir = mkdtempSync(join(tmpdir(), 'charnn-dynamic-'));
const SHAKES = readFileSync(new URL('../../shared/corpora/tinyshakespeare.txt', import.meta.url), 'utf8');
const engines: Engine[] = [];
afterAll(() => engines.forEach((e) => e.dispose()));

function model(e: Engine, cell: Cell, vocab: number, seed = 1): Weights {
  const config = validateConfig({ cell, vocab, embed: 8, hidden: 24, layers: 2, mlp: 1 });
  return new Weights(e, config, initParams(config, paramLayout(config), new Rng(seed)));
}

function file(name: string, text: string): Document {
  const path = join(dir, name);
  writeFileSync(path, text);
  return { path, bytes: Buffer.byteLength(text) };
}

const text = SHAKES.slice(0, 3000);
const vocab = Vocab.fromText(SHAKES.slice(0, 20000));
const tok = new CharTokenizer(vocab);
const plain = file('plain.txt', text);
const ms = (w: Weights) => new Float32Array(w.layout.total).fill(1e-4);

describe.each([
  ['js', async () => createJsEngine()],
  ['simd, 2 threads', () => createSimdEngine({ threads: 2 })],
] as const)('on the %s engine', (_name, create) => {
  let e: Engine;
  const engine = async () => {
    if (!e) engines.push((e = await create()));
    return e;
  };

  for (const cell of ['gru', 'lstm', 'mingru'] as const) {
    it(`${cell}: a learning rate of 0 is static evaluation bit for bit (both rules, with decay)`, async () => {
      const w = model(await engine(), cell, vocab.size);
      const stat = await evaluateFile(w, plain.path, tok, { streams: 1, seq: 40 });
      for (const rule of ['sgd', 'rms'] as const) {
        const d = await evaluateDynamic(w, [plain], tok, { separator: null, segment: 40, lr: 0, decay: 0.02, rule, meanSquares: ms(w) });
        expect(d.chars).toBe(stat.chars);
        expect(d.dynamicNats).toBe(d.staticNats);
        expect(d.staticNats).toBe(stat.nats);
      }
    });
  }

  it('the score of a character never depends on the text after it (changed tail, same scores before it)', async () => {
    const w = model(await engine(), 'gru', vocab.size);
    const other = file('other.txt', text.slice(0, 1000) + SHAKES.slice(50000, 52000));
    const segs = async (doc: Document) => {
      const out: number[][] = [];
      await evaluateDynamic(w, [doc], tok, { separator: null, segment: 50, lr: 0.5, decay: 0, rule: 'sgd', onSegment: (_i, c, s, d) => out.push([c, s, d]) });
      return out;
    };
    const a = await segs(plain), b = await segs(other);
    // Targets 1..1000 are shared: segments 0..18 (targets 1..950) score identically; the next differs.
    expect(b.slice(0, 19)).toEqual(a.slice(0, 19));
    expect(b[20][2]).not.toBe(a[20][2]);
    // And the update did something: after the first segment, dynamic differs from static.
    expect(a[5][2]).not.toBe(a[5][1]);
  });

  it('the first segment scores exactly as static evaluation of it does', async () => {
    const w = model(await engine(), 'lstm', vocab.size);
    const first = file('first.txt', text.slice(0, 33));
    const stat = await evaluateFile(w, first.path, tok, { streams: 1, seq: 32 });
    let seg0: number[] = [];
    await evaluateDynamic(w, [plain], tok, { separator: null, segment: 32, lr: 1, decay: 0.1, rule: 'sgd', onSegment: (i, c, s, d) => i === 0 && (seg0 = [c, s, d]) });
    expect(seg0).toEqual([32, stat.nats, stat.nats]);
  });
});

it('a text whose second half repeats its first is scored much better dynamically in the second half', async () => {
  // A small model trained a few seconds: a random one cannot learn a text in one reading.
  const e = await createSimdEngine({ threads: 2 });
  engines.push(e);
  const all = Vocab.fromText(SHAKES);
  const ids = all.encode(SHAKES.slice(0, 200_000));
  const out = join(dir, 'tiny.ckpt');
  await train(trainOptions({
    engine: e, config: validateConfig({ cell: 'gru', vocab: all.size, embed: 16, hidden: 128, layers: 1 }), vocab: all, train: ids, val: ids.subarray(190_000),
    corpus: 'tiny', batch: 16, seq: 32, batching: 'stream', lr: 1e-2, minLr: 1e-3, warmup: 5, clip: 1, weightDecay: 0, dropout: 0, steps: 300, seed: 1,
    evalEvery: 1000, evalChars: 2000, patience: 0, out, latest: out + '.latest', saveEvery: 0, save: saveModel, load: loadModel,
  }));
  const m = await loadModel(out);
  const w = new Weights(e, m.config, m.params);
  const half = SHAKES.slice(300_000, 301_200);
  const twice = file('twice.txt', half + half);
  const segs: number[][] = [];
  const r = await evaluateDynamic(w, [twice], new CharTokenizer(all), {
    separator: null, segment: 20, lr: 3e-4, decay: 0, rule: 'rms', meanSquares: trainingMeanSquares(m)!, onSegment: (_i, c, s, d) => segs.push([c, s, d]),
  });
  // Segment 60 starts at target 1201: the first character of the repetition.
  expect(segs).toHaveLength(120);
  const perChar = (part: number[][], k: number) => part.reduce((a, x) => a + x[k], 0) / part.reduce((a, x) => a + x[0], 0);
  const first = segs.slice(0, 60), second = segs.slice(60);
  const gain1 = perChar(first, 1) - perChar(first, 2), gain2 = perChar(second, 1) - perChar(second, 2);
  // Static scores both halves alike; dynamic has read the first half when it scores the second.
  expect(Math.abs(perChar(first, 1) - perChar(second, 1))).toBeLessThan(0.05);
  expect(perChar(second, 2)).toBeLessThan(0.9 * perChar(second, 1));
  expect(gain2).toBeGreaterThan(3 * Math.max(gain1, 0.01));
  expect(r.dynamicNats).toBeLessThan(r.staticNats);
});
