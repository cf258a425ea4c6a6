// Nothing a run holds may grow with its length: steps, estimates, saves, characters. Engine
// memory is not garbage-collected (the simd engine's WebAssembly memory only grows), so every
// phase must hand back what it allocated; these checks count it per engine, and one run goes
// through the real bin with an estimate every step and watches the process's memory.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateIds, estimateIds } from '../src/eval/evaluate.js';
import { Weights } from '../src/model/model.js';
import { initParams, paramLayout } from '../src/model/params.js';
import { Rng } from '../src/rng.js';
import { sample } from '../src/sample/sample.js';
import { Arena } from '../src/engine/simd/arena.js';
import { createSimdEngine } from '../src/engine/simd/simd-engine.js';
import { Vocab } from '../src/text/vocab.js';
import { train } from '../src/train/loop.js';
import { saveModel, loadModel } from '../src/model/store.js';
import type { ModelConfig } from '../src/model/config.js';
import { LossSeries } from '../src/cli/chart.js';
import { engineFactories } from './engines.js';
import { trainOptions, type FlatTrainOptions } from './train-options.js';

const TEXT = 'To be, or not to be, that is the question: whether tis nobler in the mind to suffer. ';
const vocab = Vocab.fromText(TEXT);
const ids = Uint8Array.from(Array.from(TEXT.repeat(20), (ch) => vocab.idOf(ch.codePointAt(0)!)));
const CELLS: ModelConfig[] = [
  { cell: 'gru', vocab: vocab.size, embed: 8, hidden: 16, layers: 2 },
  { cell: 'mingru', vocab: vocab.size, embed: 8, hidden: 16, layers: 2, mlp: 2 },
];

describe('the simd arena', () => {
  it('reuses freed blocks, zeroed, and merges neighbours', () => {
    const a = new Arena(64);
    const p1 = a.alloc(1000), p2 = a.alloc(1000), p3 = a.alloc(1000);
    a.f32(p2, 250).fill(7);
    const top = a.usage().reserved;
    a.free(p2, 1000);
    const q = a.alloc(900);
    expect(q).toBe(p2);
    expect(Array.from(a.f32(q, 225)).every((x) => x === 0)).toBe(true);
    a.free(q, 900);
    a.free(p1, 1000);
    // p1 and p2's room is one hole now: a block of both fits without growing.
    expect(a.alloc(2000)).toBe(p1);
    a.free(p3, 1000);
    expect(a.usage().used).toBe(2048);
    // p3's room went back to the top; handed out again, it is zero.
    a.f32(p3, 250).fill(5);
    const r = a.alloc(1000);
    expect(r).toBe(p3);
    expect(Array.from(a.f32(r, 250)).every((x) => x === 0)).toBe(true);
    a.free(r, 1000);
    for (let i = 0; i < 1000; i++) a.free(a.alloc(50_000), 50_000);
    expect(a.usage().reserved).toBeLessThanOrEqual(top + 65536);
  });
});

describe.each(engineFactories)('memory on $name', ({ create }) => {
  it.each(CELLS)('repeated estimates, evals and samples of a $cell hold nothing afterwards', async (config) => {
    const e = await create();
    try {
      const w = new Weights(e, config, initParams(config, paramLayout(config), new Rng(1)));
      const base = e.memory().tensors;
      const after: number[] = [], reserved: (number | null)[] = [];
      for (let i = 0; i < 12; i++) {
        await estimateIds(w, ids, { chars: 400, seq: 16, streams: 8, burnIn: 8 });
        await evaluateIds(w, ids.subarray(0, 300), { streams: 4, burnIn: 8 });
        await sample(w, vocab, { prime: 'To', length: 20, temperature: 1, seed: i, count: 2, keep: false });
        after.push(e.memory().tensors);
        reserved.push(e.memory().reserved);
      }
      expect(after.every((x) => x === base)).toBe(true);
      // The simd engine's memory stops growing once the first round has sized it.
      expect(reserved.at(-1)).toBe(reserved[0]);
      w.dispose();
      expect(e.memory().tensors).toBe(0);
    } finally {
      e.dispose();
    }
  });
});

describe.each(engineFactories)('freeing on $name', ({ create }) => {
  it('a freed tensor or released plan cannot be used again, and a freed room is reused', async () => {
    const e = await create();
    try {
      const t = e.tensor(64);
      e.free(t);
      expect(() => e.zero({ out: t })).toThrow(/was freed/);
      expect(() => e.free(t)).toThrow(/was freed/);
      // A tensor made in the freed room starts at zero, whatever the old one held.
      const a = e.tensor(64);
      e.write(a, new Float32Array(64).fill(3));
      e.free(a);
      const b = e.tensor(64);
      expect(Array.from(await e.read(b)).every((x) => x === 0)).toBe(true);
      const config = CELLS[0];
      const w = new Weights(e, config, initParams(config, paramLayout(config), new Rng(1)));
      const { InferSession } = await import('../src/model/infer-session.js');
      const s = new InferSession(w, 2);
      s.dispose();
      expect(() => s.feed([0, 1])).toThrow(/not an inference plan/);
    } finally {
      e.dispose();
    }
  });
});

describe('a training run', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'charnn-memory-'));

  it('with an estimate every step holds flat memory and frees everything at the end', async () => {
    const e = await createSimdEngine({ threads: 1 });
    try {
      const seen: { tensors: number; reserved: number | null }[] = [];
      const out = path.join(dir, 'every-step.ckpt');
      const s = await train(trainOptions({
        engine: e, config: CELLS[0], vocab, train: ids, val: ids.subarray(0, 600), corpus: 'test', batch: 4, seq: 16, batching: 'random',
        lr: 1e-2, minLr: 0, warmup: 5, clip: 1, weightDecay: 0, dropout: 0.1, steps: 300, seed: 1, evalEvery: 1, evalChars: 300,
        patience: 0, out, latest: out + '.latest', saveEvery: 7, save: saveModel, load: loadModel,
        onEvent: (ev) => { if (ev.type === 'eval') seen.push(e.memory()); },
      }));
      expect(s.steps).toBe(300);
      expect(seen.length).toBeGreaterThanOrEqual(299);
      expect(new Set(seen.map((m) => m.tensors)).size).toBe(1);
      expect(seen.at(-1)!.reserved).toBe(seen[1].reserved);
      expect(e.memory().tensors).toBe(0);
    } finally {
      e.dispose();
    }
  });

  it('through the bin: hundreds of estimates at flat process memory', async () => {
    // A GRU 2×64 on 400 kB of text; each estimate's workspace is a few MB, so a leak shows. Spawned
    // without blocking: a minute-long spawnSync on a loaded machine starves vitest's worker RPC.
    const text = path.join(dir, 'text.txt');
    writeFileSync(text, TEXT.repeat(5000));
    const p = spawn(process.execPath, [
      'bin/charnn.js', 'train', text, '--model', 'gru', '--layers', '2', '--hidden', '64', '--embed', '16', '--batch', '8', '--seq', '32',
      '--steps', '400', '--eval-every', '1', '--eval-chars', '8192', '--threads', '1', '--json', '--out', path.join(dir, 'bin.ckpt'),
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const status = await new Promise<number | null>((resolve) => p.on('close', resolve));
    expect(status, err).toBe(0);
    const rss = out.split('\n').filter((l) => l.includes('"type":"eval"')).map((l) => JSON.parse(l).rss_mb as number);
    expect(rss.length).toBeGreaterThanOrEqual(390);
    // After the first 50 estimates (V8 settling), at most a little more.
    expect(rss.at(-1)! - rss[49]).toBeLessThan(40);
  }, 600_000);
});

describe('the loss chart history', () => {
  it('stays bounded over a million steps and keeps their span and mean', () => {
    const s = new LossSeries(256);
    let sum = 0;
    for (let i = 1; i <= 1_000_000; i++) {
      const loss = 1 + Math.sin(i / 1000);
      sum += loss;
      s.push(i, loss);
    }
    expect(s.points.length).toBeLessThanOrEqual(256);
    expect(s.points.length).toBeGreaterThanOrEqual(128);
    expect(s.points[0].step).toBeLessThan(1_000_000 / 100);
    expect(s.points.at(-1)!.step).toBeGreaterThan(1_000_000 * 0.99);
    const mean = s.points.reduce((a, p) => a + p.loss, 0) / s.points.length;
    expect(mean).toBeCloseTo(sum / 1_000_000, 1);
  });
});
