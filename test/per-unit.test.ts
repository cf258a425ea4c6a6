// Scores per line and per document: in context they add up to the whole text's score; from a
// fresh state each is the score of that line (or document) as a file of its own. Records come out
// in reading order whatever order the rows finish them in.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createJsEngine } from '../src/engine/js/js-engine.js';
import { evaluateFile } from '../src/eval/evaluate.js';
import { evaluateUnits, type UnitRecord } from '../src/eval/per-unit.js';
import { validateConfig } from '../src/model/config.js';
import { Weights } from '../src/model/model.js';
import { initParams, paramLayout } from '../src/model/params.js';
import { Rng } from '../src/rng.js';
import { ByteTokenizer, BYTE_VOCAB, CharTokenizer, Vocab, type Tokenizer } from '../src/text/index.js';
import type { Document } from '../src/text/documents.js';

const dir = mkdtempSync(join(tmpdir(), 'charnn-per-unit-'));
const SHAKES = readFileSync(new URL('../../shared/corpora/tinyshakespeare.txt', import.meta.url), 'utf8');
const e = createJsEngine();
afterAll(() => e.dispose());

function model(vocab: number, seed = 1): Weights {
  const config = validateConfig({ cell: 'gru', vocab, embed: 8, hidden: 16, layers: 2 });
  return new Weights(e, config, initParams(config, paramLayout(config), new Rng(seed)));
}

function doc(name: string, text: string | Buffer): Document {
  const path = join(dir, name);
  writeFileSync(path, text);
  return { path, bytes: Buffer.byteLength(text) };
}

async function records(w: Weights, docs: Document[], tok: Tokenizer, o: Partial<Parameters<typeof evaluateUnits>[3]> = {}) {
  const out: UnitRecord[] = [];
  const r = await evaluateUnits(w, docs, tok, { unit: 'line', separator: null, previewChars: 40, onRecord: (x) => out.push(x), ...o });
  return { r, out };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

// CRLF lines, an empty line, a line of characters the model lacks, and no newline at the end.
const text = SHAKES.slice(0, 9000).replace(/\n/g, (m, i: number) => (i % 7 === 0 ? '\r\n' : m)) + '\n\n§§§\nthe end, no newline';
const vocab = Vocab.fromText(SHAKES.slice(0, 9000) + 'the end, no newline');
const tok = new CharTokenizer(vocab);
const lines = text.split(/(?<=\n)/);

describe('per line, in context', () => {
  const f = doc('text.txt', text);
  const w = model(vocab.size);

  it('one record per line, in order, with its line number and text; they sum to the whole text (1e-6 relative)', async () => {
    const whole = await evaluateFile(w, f.path, tok);
    const { r, out } = await records(w, [f], tok);
    expect(out.map((x) => x.line)).toEqual(lines.map((_, i) => i + 1));
    expect(out.map((x) => x.text)).toEqual(lines.map((l) => l.replace(/\r?\n$/, '').slice(0, 40)));
    expect(out.reduce((a, x) => a + x.chars, 0)).toBe(whole.chars);
    expect(rel(out.reduce((a, x) => a + x.nats, 0), whole.nats)).toBeLessThan(1e-6);
    expect(rel(r.nats, whole.nats)).toBeLessThan(1e-6);
    // A line of unknown characters feeds nothing: it scores nothing.
    expect(out[lines.indexOf('§§§\n')]).toMatchObject({ chars: 1, unknown: 3, text: '§§§' });
    expect(r.unknown).toBe(3 + (text.match(/\r/g) ?? []).length); // § and the CRs, which the vocabulary lacks
  });

  it('with one stream it is the exact single stream, record by record', async () => {
    const whole = await evaluateFile(w, f.path, tok, { streams: 1 });
    const { out } = await records(w, [f], tok, { streams: 1 });
    expect(rel(out.reduce((a, x) => a + x.nats, 0), whole.nats)).toBeLessThan(1e-12);
    // Each line's chars: its symbols, less the text's very first (only an input).
    const known = (l: string) => [...l].filter((ch) => vocab.idOf(ch.codePointAt(0)!) >= 0).length;
    expect(out.map((x) => x.chars)).toEqual(lines.map((l, i) => known(l) - (i === 0 ? 1 : 0)));
  });
});

describe('each from a fresh state', () => {
  const f = doc('reset.txt', text);
  const w = model(vocab.size, 3);

  it('--reset-each scores every line as a file of its own would be scored', async () => {
    const { r, out } = await records(w, [f], tok, { resetEach: true });
    expect(out).toHaveLength(lines.length);
    let sum = 0;
    for (const [i, line] of lines.entries()) {
      if ([...line].filter((ch) => vocab.idOf(ch.codePointAt(0)!) >= 0).length < 2) {
        expect(out[i].chars).toBe(0);
        continue;
      }
      const one = doc('line.txt', line);
      const alone = await evaluateFile(w, one.path, tok, { streams: 1 });
      expect(out[i].chars).toBe(alone.chars);
      expect(rel(out[i].nats, alone.nats)).toBeLessThan(1e-9);
      sum += out[i].nats;
    }
    expect(rel(r.nats, sum)).toBeLessThan(1e-9);
  }, 120_000);

  it('the same records whatever the rows, the chunk length and whether long lines are held', async () => {
    const base = (await records(w, [f], tok, { resetEach: true })).out;
    for (const o of [{ streams: 7, seq: 5 }, { streams: 1 }, { holdIds: 20 }]) {
      const { out } = await records(w, [f], tok, { resetEach: true, ...o });
      expect(out.map((x) => x.chars)).toEqual(base.map((x) => x.chars));
      out.forEach((x, i) => expect(Math.abs(x.nats - base[i].nats)).toBeLessThan(1e-9 * (1 + base[i].nats)));
    }
  });
});

describe('documents', () => {
  const docs = [doc('d1.txt', SHAKES.slice(0, 1500)), doc('d2.txt', SHAKES.slice(3000, 3400)), doc('d3.txt', SHAKES.slice(6000, 8200))];
  const w = model(vocab.size, 5);

  it('per document from a fresh state: each as its own file', async () => {
    const out: UnitRecord[] = [];
    await evaluateUnits(w, docs, tok, { unit: 'doc', resetEach: true, separator: null, streams: 2, onRecord: (x) => out.push(x) });
    expect(out.map((x) => x.doc)).toEqual([0, 1, 2]);
    for (const [i, d] of docs.entries()) {
      const alone = await evaluateFile(w, d.path, tok, { streams: 1 });
      expect(out[i].chars).toBe(alone.chars);
      expect(rel(out[i].nats, alone.nats)).toBeLessThan(1e-9);
    }
  });

  it('in context the documents are one stream, joined by the separator when the model knows one (fed, never scored)', async () => {
    const joined = doc('joined.txt', docs.map((d) => readFileSync(d.path, 'utf8')).join(''));
    const whole = await evaluateFile(w, joined.path, tok, { streams: 1 });
    const out: UnitRecord[] = [];
    const r = await evaluateUnits(w, docs, tok, { unit: 'doc', separator: null, streams: 1, onRecord: (x) => out.push(x) });
    expect(r.chars).toBe(whole.chars);
    expect(rel(r.nats, whole.nats)).toBeLessThan(1e-12);
    expect(out.map((x) => x.chars)).toEqual([1499, 400, 2200]);
    // With a separator: the same characters scored, each document's first now after it.
    const sep = vocab.idOf(' '.codePointAt(0)!);
    const withSep = await evaluateUnits(w, docs, tok, { unit: 'doc', separator: sep, streams: 1 });
    expect(withSep.chars).toBe(whole.chars);
    expect(withSep.nats).not.toBe(r.nats);
  });

  it('byte models score lines of bytes, any bytes', async () => {
    const bytes = Buffer.concat([Buffer.from('héllo wörld\n'), Buffer.from([0xff, 0xfe, 0x41, 0x0a]), Buffer.from('tail')]);
    const f = doc('bytes.bin', bytes);
    const wb = model(256, 9);
    const { r, out } = await records(wb, [f], new ByteTokenizer(), { streams: 1 });
    expect(out.map((x) => [x.line, x.chars])).toEqual([[1, 13], [2, 4], [3, 4]]);
    expect(out[0].text).toBe('héllo wörld');
    expect(r.chars).toBe(bytes.length - 1);
    expect(BYTE_VOCAB.size).toBe(256);
  });
});

describe('a file of many short lines', () => {
  it('streams: records are handed out in order as they are scored, not held to the end', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => `line ${i % 97}\n`).join('');
    const v = Vocab.fromText(many);
    const f = doc('many.txt', many);
    const w = model(v.size, 11);
    for (const resetEach of [true, false]) {
      const all: number[] = [];
      await evaluateUnits(w, [f], new CharTokenizer(v), { unit: 'line', resetEach, separator: null, streams: 32, seq: 4, burnIn: 8, onRecord: (x) => all.push(x.unit) });
      expect(all).toEqual(Array.from({ length: 3000 }, (_, i) => i));
      // Stopped at the tenth record, the run ends within a chunk or two: records came out as scored.
      const ac = new AbortController(), seen: number[] = [];
      const r = await evaluateUnits(w, [f], new CharTokenizer(v), {
        unit: 'line', resetEach, separator: null, streams: 32, seq: 4, burnIn: 8, signal: ac.signal,
        onRecord: (x) => seen.push(x.unit) === 10 && ac.abort(),
      });
      expect(r.partial).toBe(true);
      expect(seen).toEqual(all.slice(0, seen.length));
      expect(seen.length).toBeLessThan(500);
    }
  });
});
