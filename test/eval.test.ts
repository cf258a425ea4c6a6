// Segmented evaluation: the single stream against a naive per-character loop, the segments
// against the single stream, multi-byte boundaries, abort, and byte models end to end.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createJsEngine } from '../src/engine/js/js-engine.js';
import { describeSegmentation, estimateIds, evaluateFile, evaluateIds, planStreams } from '../src/eval/evaluate.js';
import { scoreStreams } from '../src/eval/streams.js';
import { validateConfig, type Cell } from '../src/model/config.js';
import { Weights, Workspace } from '../src/model/model.js';
import { initParams, paramLayout } from '../src/model/params.js';
import { loadModel, saveModel } from '../src/model/store.js';
import { Rng } from '../src/rng.js';
import { CharTokenizer, makeTokenizer, readCorpus, Vocab, type IdArray } from '../src/text/index.js';
import { train } from '../src/train/loop.js';
import { trainOptions, type FlatTrainOptions } from './train-options.js';

const dir = mkdtempSync(join(tmpdir(), 'charnn-eval-'));
const SHAKES = readFileSync(new URL('../../shared/corpora/tinyshakespeare.txt', import.meta.url), 'utf8');
const e = createJsEngine();
afterAll(() => e.dispose());

function randomModel(cell: Cell, vocab: number, seed = 1): Weights {
  const config = validateConfig({ cell, vocab, embed: 8, hidden: 16, layers: 2, mlp: 1 });
  return new Weights(e, config, initParams(config, paramLayout(config), new Rng(seed)));
}

/** The oracle: one character at a time, log-softmax in float64, no chunks, no masks, no batch. */
async function naiveNats(w: Weights, ids: ArrayLike<number>): Promise<number> {
  const ws = new Workspace(w, 1, 1, false);
  const x = new Float32Array(1);
  let nats = 0;
  for (let i = 0; i + 1 < ids.length; i++) {
    x[0] = ids[i];
    ws.setInputs(x);
    ws.forward();
    ws.carryState();
    const z = await e.read(ws.logits);
    let m = -Infinity, s = 0;
    for (const v of z) m = Math.max(m, v);
    for (const v of z) s += Math.exp(v - m);
    nats -= z[ids[i + 1]] - m - Math.log(s);
  }
  return nats;
}

function encodeKnown(vocab: Vocab, text: string): IdArray {
  const known = new CharTokenizer(vocab).encode(text).ids;
  const ids = vocab.allocIds(known.length);
  ids.set(known);
  return ids;
}

const bpc = (r: { nats: number; chars: number }) => r.nats / r.chars / Math.LN2;

describe('single stream', () => {
  // Characters outside the vocabulary are skipped: the oracle never sees them.
  const text = SHAKES.slice(0, 700).replace(/e/g, 'e§').replace(/\n\n/g, '\n😀\n');
  const vocab = Vocab.fromText(SHAKES.slice(0, 700));
  const file = join(dir, 'short.txt');
  writeFileSync(file, text);
  const ids = encodeKnown(vocab, text);

  for (const cell of ['lstm', 'gru', 'mingru'] as const) {
    it(`${cell}: streams 1 equals a plain per-character loop over the js engine (1e-6)`, async () => {
      const w = randomModel(cell, vocab.size);
      const r = await evaluateFile(w, file, new CharTokenizer(vocab), { streams: 1, seq: 37 });
      expect(r.chars).toBe(ids.length - 1);
      expect(r.unknown).toBe([...text].length - ids.length);
      expect(r.unknownChars.get('§'.codePointAt(0)!)).toBe((text.match(/§/g) ?? []).length);
      expect(r.total).toBe([...text].length);
      expect(r.partial).toBe(false);
      const oracle = (await naiveNats(w, ids)) / (ids.length - 1);
      expect(Math.abs(r.nats / r.chars - oracle)).toBeLessThan(1e-6);
    });
  }
});

describe('segments side by side', () => {
  const text = SHAKES.slice(0, 6000);
  const vocab = Vocab.fromText(text);
  const ids = encodeKnown(vocab, text);
  const file = join(dir, 'segments.txt');
  writeFileSync(file, text);

  it('with burn-ins that reach back to the start, every segment reproduces the single stream exactly (1e-6)', async () => {
    const w = randomModel('lstm', vocab.size);
    const one = await scoreStreams(w, [{ burn: new Uint8Array(0), body: [{ ids, bytes: ids.length }] }], { seq: 64, total: ids.length });
    const cuts = [0, 900, 2500, 2501, 4000, ids.length];
    const specs = cuts.slice(0, -1).map((a, s) => ({ burn: ids.subarray(0, a), body: [{ ids: ids.subarray(a, cuts[s + 1]), bytes: cuts[s + 1] - a }] }));
    const many = await scoreStreams(w, specs, { seq: 64, total: ids.length });
    expect(many.chars).toBe(one.chars);
    expect(Math.abs(many.nats / many.chars - one.nats / one.chars)).toBeLessThan(1e-6);
  });

  it('a file in 8 segments with a 64-character burn-in scores the same characters within 1e-3 bits/char of one stream', async () => {
    const w = randomModel('gru', vocab.size, 3);
    const tok = new CharTokenizer(vocab);
    const one = await evaluateFile(w, file, tok, { streams: 1 });
    const many = await evaluateFile(w, file, tok, { streams: 8, burnIn: 64 });
    expect(many.segmentation.streams).toBe(8);
    expect(describeSegmentation(many.segmentation)).toMatch(/^8 segments of ~7\d\d chars side by side, each after the first warmed up on the 64 chars before it/);
    expect(describeSegmentation(one.segmentation)).toMatch(/one stream/);
    expect(many.chars).toBe(one.chars);
    expect(many.total).toBe(one.total);
    expect(Math.abs(bpc(many) - bpc(one))).toBeLessThan(1e-3);
    // The in-memory path cuts by id rather than by byte, under the same bound.
    const ids8 = await evaluateIds(w, ids, { streams: 8, burnIn: 64 });
    expect(ids8.chars).toBe(one.chars);
    expect(Math.abs(bpc(ids8) - bpc(one))).toBeLessThan(1e-3);
  });

  it('segment boundaries inside multi-byte characters move to the next character start', async () => {
    const unit = [...'жé😀ab €\n大'];
    const t = Array.from({ length: 250 }, (_, i) => unit.slice(0, 1 + (i % unit.length)).join('')).join('');
    const f = join(dir, 'multibyte.txt');
    writeFileSync(f, t);
    const v = Vocab.fromText(t);
    const w = randomModel('minlstm', v.size, 5);
    const tok = new CharTokenizer(v);
    const one = await evaluateFile(w, f, tok, { streams: 1 });
    // 13 segments over ~7 KB put most cuts inside a 2- to 4-byte character.
    const many = await evaluateFile(w, f, tok, { streams: 13, burnIn: 16 });
    expect(many.segmentation.streams).toBe(13);
    expect(many.total).toBe([...t].length);
    expect(many.unknown).toBe(0);
    expect(many.chars).toBe([...t].length - 1);
    expect(Math.abs(bpc(many) - bpc(one))).toBeLessThan(1e-3);
  });

  it('a short text uses fewer segments (each at least four burn-ins long), and bad options are user errors', async () => {
    expect(planStreams(100_000, 32, 256)).toBe(32);
    expect(planStreams(5000, 32, 256)).toBe(4);
    expect(planStreams(500, 32, 256)).toBe(1);
    const w = randomModel('lstm', vocab.size);
    await expect(evaluateIds(w, ids, { burnIn: 0 })).rejects.toThrow(/--burn-in/);
    await expect(evaluateIds(w, ids, { streams: 1.5 })).rejects.toThrow(/--streams/);
  });
});

describe('progress and abort', () => {
  const text = SHAKES.slice(0, 3000);
  const vocab = Vocab.fromText(text);
  const ids = encodeKnown(vocab, text);
  const file = join(dir, 'abort.txt');
  writeFileSync(file, text);

  it('stopping returns a partial result over exactly the characters scored so far', async () => {
    const w = randomModel('lstm', vocab.size);
    let polls = 0;
    // Aborts when polled the fourth time, that is after three chunks.
    const signal = { get aborted() { return ++polls > 3; } } as AbortSignal;
    const r = await evaluateFile(w, file, new CharTokenizer(vocab), { streams: 1, seq: 50, signal });
    expect(r.partial).toBe(true);
    expect(r.chars).toBe(150);
    const prefix = await evaluateIds(w, ids.subarray(0, 151), { streams: 1, seq: 50 });
    expect(r.nats).toBeCloseTo(prefix.nats, 9);
    // The report still describes the whole file's segment, extrapolated from the part read.
    expect(Math.abs(r.segmentation.unitsPerSegment / ids.length - 1)).toBeLessThan(0.1);
  });

  it('an already aborted signal scores nothing and says so', async () => {
    const w = randomModel('lstm', vocab.size);
    const ac = new AbortController();
    ac.abort();
    const r = await evaluateFile(w, file, new CharTokenizer(vocab), { streams: 4, burnIn: 16, signal: ac.signal });
    expect(r).toMatchObject({ partial: true, chars: 0 });
  });

  it('progress counts file bytes up to the file size, starting before the first chunk', async () => {
    const w = randomModel('lstm', vocab.size);
    const seen: { done: number; total: number; chars: number }[] = [];
    await evaluateFile(w, file, new CharTokenizer(vocab), { streams: 4, burnIn: 16, onProgress: (p) => seen.push(p) });
    const size = Buffer.byteLength(text);
    expect(seen[0]).toMatchObject({ total: size, chars: 0 });
    expect(seen[0].done).toBeLessThan(size / 10);
    expect(seen.at(-1)).toMatchObject({ done: size, total: size, chars: ids.length - 1 });
    for (let i = 1; i < seen.length; i++) expect(seen[i].done).toBeGreaterThanOrEqual(seen[i - 1].done);
  });
});

describe('byte models', () => {
  it('train on a file with emoji, CRLF and a BOM in bytes mode, then eval any file with no unknowns', async () => {
    const text = '\ufeffHello 😀 wörld\r\n' + SHAKES.slice(0, 1500).replace(/\n/g, '\r\n') + ' 🎉 naïve € end\r\n';
    const file = join(dir, 'bytes.txt');
    writeFileSync(file, text);
    const c = await readCorpus(file, { tokenizer: 'bytes' });
    expect(c.ids.length).toBe(Buffer.byteLength(text));
    const out = join(dir, 'bytes.ckpt');
    await train(trainOptions({
      engine: e, config: validateConfig({ cell: 'gru', vocab: c.vocab.size, embed: 8, hidden: 16, layers: 1 }), vocab: c.vocab, tokenizer: 'bytes',
      train: c.ids, val: c.ids.subarray(c.ids.length - 300), corpus: file, batch: 4, seq: 32, batching: 'stream',
      lr: 1e-2, minLr: 1e-3, warmup: 2, clip: 1, weightDecay: 0, dropout: 0, steps: 3, seed: 1,
      evalEvery: 1000, evalChars: 200, patience: 0, out, latest: out + '.latest', saveEvery: 0, save: saveModel, load: loadModel,
    }));
    const m = await loadModel(out);
    expect(m.tokenizer).toBe('bytes');
    const tok = makeTokenizer(m.tokenizer, m.vocab);
    const w = new Weights(e, m.config, m.params);
    // A file the training text never contained, with characters a char model would not know.
    const other = join(dir, 'other.txt');
    writeFileSync(other, 'Ωμέγα ✓ 🚀 ' + SHAKES.slice(5000, 7000));
    const bytes = readFileSync(other);
    const one = await evaluateFile(w, other, tok, { streams: 1 });
    expect(one).toMatchObject({ unknown: 0, total: bytes.length, chars: bytes.length - 1 });
    expect(Math.abs(one.nats / one.chars - (await naiveNats(w, bytes)) / (bytes.length - 1))).toBeLessThan(1e-6);
    const many = await evaluateFile(w, other, tok, { streams: 5, burnIn: 64 });
    expect(many.chars).toBe(bytes.length - 1);
    expect(Math.abs(bpc(many) - bpc(one))).toBeLessThan(1e-3);
  });
});

describe('the periodic estimate', () => {
  it('draws its windows from the whole text, each warmed up like a segment, and is the whole text when short', async () => {
    const w = randomModel('gru', 4, 5);
    const N = 4000;
    // Two halves the model scores very differently: the estimate must see both.
    const ids = Uint8Array.from({ length: N }, (_, i) => (i < N / 2 ? 0 : (i * 7919) % 4));
    const first = await evaluateIds(w, ids.subarray(0, N / 2), { streams: 1 });
    const second = await evaluateIds(w, ids.subarray(N / 2), { streams: 1 });
    const est = await estimateIds(w, ids, { chars: 800, streams: 8, burnIn: 16 });
    expect(est.chars).toBe(799); // every id of the windows but the text's very first, which nothing predicts
    const lo = Math.min(bpc(first), bpc(second)), hi = Math.max(bpc(first), bpc(second));
    expect(bpc(est)).toBeGreaterThan(lo + 0.1 * (hi - lo));
    expect(bpc(est)).toBeLessThan(hi - 0.1 * (hi - lo));
    // Window s starts at s·(N − L)/(S − 1): the last one ends at the text's end. Scored one by one
    // with the same burn-in, the windows add up to the estimate.
    let nats = 0;
    for (let s = 0; s < 8; s++) {
      const a = Math.floor((s * (N - 100)) / 7);
      const part = await scoreStreams(w, [{ burn: ids.subarray(Math.max(0, a - 16), a), body: [{ ids: ids.subarray(a, a + 100), bytes: 100 }] }], { seq: 32, total: 100 });
      nats += part.nats;
    }
    expect(est.nats).toBeCloseTo(nats, 4);
    const whole = await estimateIds(w, ids, { chars: N, streams: 8, burnIn: 16 });
    const exact = await evaluateIds(w, ids, { streams: 8, burnIn: 16 });
    expect(whole.nats).toBe(exact.nats);
  });
});
