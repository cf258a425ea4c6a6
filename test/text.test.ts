import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { readCorpus, streamEncoded, type EncodeStats } from '../src/text/corpus.js';
import { splitIds } from '../src/text/split.js';
import { UnknownCharError, Vocab } from '../src/text/vocab.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'charnn-text-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(content: string | Uint8Array): string {
  const p = path.join(dir, `f${n++}.txt`);
  writeFileSync(p, content);
  return p;
}

async function rejects(p: Promise<unknown>, fragment: string): Promise<void> {
  const e = await p.then(() => undefined, (err) => err);
  expect(e).toBeInstanceOf(UserError);
  expect(e.message).toContain(fragment);
  expect(e.message).not.toContain('\n');
}

describe('Vocab', () => {
  it('is sorted unique code points, astral characters included', () => {
    const v = Vocab.fromText('ba😀a\r\n');
    expect(v.toJSON()).toEqual([0x0a, 0x0d, 0x61, 0x62, 0x1f600]);
    expect(v.size).toBe(5);
    expect(v.idOf(0x1f600)).toBe(4);
    expect(v.idOf(0x63)).toBe(-1);
    expect(Array.from(v.encode('a😀b'))).toEqual([2, 4, 3]);
    expect(v.decode(v.encode('ab😀\r\n'))).toBe('ab😀\r\n');
  });

  it('round-trips through JSON, any character', () => {
    const v = Vocab.fromCodePoints([0, 0x7f, 0xd800, 0xffff, 0x10ffff, 65, 65]);
    const back = Vocab.fromJSON(JSON.parse(JSON.stringify(v)));
    expect(back.toJSON()).toEqual([0, 65, 0x7f, 0xd800, 0xffff, 0x10ffff]);
    expect(back.decode([0, 5])).toBe('\u0000\u{10ffff}');
  });

  it('refuses damaged JSON and unknown characters', () => {
    expect(() => Vocab.fromJSON([2, 1], 'm.ckpt')).toThrow(/m.ckpt has an invalid vocabulary/);
    expect(() => Vocab.fromJSON([0x110000])).toThrow(UserError);
    expect(() => Vocab.fromJSON('abc')).toThrow(UserError);
    expect(() => Vocab.fromText('ab').encode('abc')).toThrow(UnknownCharError);
    expect(() => Vocab.fromText('ab').decode([2])).toThrow(RangeError);
  });

  it('allocates the smallest id type', () => {
    const range = (k: number) => Array.from({ length: k }, (_, i) => i);
    expect(Vocab.fromCodePoints(range(256)).allocIds(1)).toBeInstanceOf(Uint8Array);
    expect(Vocab.fromCodePoints(range(257)).allocIds(1)).toBeInstanceOf(Uint16Array);
    expect(Vocab.fromCodePoints(range(65536)).allocIds(1)).toBeInstanceOf(Uint16Array);
    expect(Vocab.fromCodePoints(range(65537)).allocIds(1)).toBeInstanceOf(Uint32Array);
  });
});

describe('readCorpus', () => {
  it('strips a BOM, keeps CRLF, counts an emoji as one character', async () => {
    const text = 'héllo 😀\r\nworld\n';
    const c = await readCorpus(file('\ufeff' + text));
    expect(c.chars).toBe([...text].length);
    expect(c.unknown).toBe(0);
    expect(c.ids).toBeInstanceOf(Uint8Array);
    expect(c.vocab.decode(c.ids)).toBe(text);
    expect(c.vocab.toJSON()).toEqual(Vocab.fromText(text).toJSON());
  });

  it('decodes characters split across read chunks and uses Uint16 ids past 256 symbols', async () => {
    // 3- and 4-byte sequences over more than 1 MiB land on the chunk boundaries.
    const cjk = Array.from({ length: 300 }, (_, i) => String.fromCodePoint(0x4e00 + i)).join('');
    const text = (cjk + '😀a').repeat(1300);
    const c = await readCorpus(file(text));
    expect(c.ids).toBeInstanceOf(Uint16Array);
    expect(c.vocab.size).toBe(302);
    expect(c.chars).toBe(302 * 1300);
    expect(c.vocab.decode(c.ids)).toBe(text);
  });

  it('skips and counts characters outside a given vocabulary', async () => {
    const vocab = Vocab.fromText('abc\n');
    const c = await readCorpus(file('abxc\nyyé'), { vocab });
    expect(c.vocab).toBe(vocab);
    expect(c.vocab.decode(c.ids)).toBe('abc\n');
    expect(c.chars).toBe(8);
    expect(c.unknown).toBe(4);
    expect([...c.unknownChars]).toEqual([[0x78, 1], [0x79, 2], [0xe9, 1]]);
    await rejects(readCorpus(file('xyz'), { vocab }), "has no character of the model's vocabulary");
  });

  it('refuses what is not a readable UTF-8 text file', async () => {
    await rejects(readCorpus(path.join(dir, 'missing.txt')), 'no such file: ');
    const sub = path.join(dir, 'sub');
    mkdirSync(sub);
    await rejects(readCorpus(sub), `${sub} is a directory, expected a text file`);
    const empty = file('');
    await rejects(readCorpus(empty), `${empty} is empty`);
    await rejects(readCorpus(file('\ufeff')), 'is empty');
    const latin1 = file(Buffer.from('caf\xe9 au lait', 'latin1'));
    await rejects(readCorpus(latin1), `${latin1} is not valid UTF-8 (bad byte sequence near offset 3)`);
    await rejects(readCorpus(file(Buffer.from([0x61, 0xe2, 0x82]))), 'ends in the middle of a character');
    const bin = file(Buffer.from([0x61, 0x62, 0, 1, 2]));
    await rejects(readCorpus(bin), `${bin} does not look like UTF-8 text (NUL byte at offset 2)`);
    await rejects(readCorpus(file(Buffer.from('\ufeffhi', 'utf16le'))), 'looks like UTF-16');
  });
});

describe('streamEncoded', () => {
  it('yields the same ids in bounded chunks with the same unknown policy', async () => {
    const text = 'the quick brown fox\r\njumps over the lazy dog 😀 ✓\n'.repeat(500);
    const p = file(text);
    const vocab = Vocab.fromText('the quick brown fox\n');
    const whole = await readCorpus(p, { vocab });
    const stats: EncodeStats = { chars: 0, unknown: 0, unknownChars: new Map() };
    const parts: number[] = [];
    const gen = streamEncoded(p, vocab, 1000, stats);
    let r = await gen.next();
    while (!r.done) {
      expect(r.value.length).toBeLessThanOrEqual(1000);
      parts.push(...r.value);
      r = await gen.next();
    }
    expect(parts).toEqual(Array.from(whole.ids));
    expect(r.value).toBe(stats);
    expect(stats.chars).toBe(whole.chars);
    expect(stats.unknown).toBe(whole.unknown);
    expect(stats.unknownChars).toEqual(whole.unknownChars);
  });

  it('reports file errors', async () => {
    const it = streamEncoded(path.join(dir, 'nope.txt'), Vocab.fromText('a'));
    await rejects(it.next(), 'no such file');
  });
});

describe('splitIds', () => {
  it('keeps the last valFrac for validation, as nanoGPT', () => {
    const ids = Uint8Array.from({ length: 100 }, (_, i) => i);
    const { train, val } = splitIds(ids);
    expect(train.length).toBe(90);
    expect(Array.from(val)).toEqual(Array.from(ids.slice(90)));
    expect(splitIds(ids, 0.5).val.length).toBe(50);
    expect(splitIds(new Uint16Array(1000), 0.25).train).toBeInstanceOf(Uint16Array);
  });

  it('refuses bad fractions and tiny texts', () => {
    for (const f of [0, -0.1, 0.51, 1, NaN]) expect(() => splitIds(new Uint8Array(100), f)).toThrow(/--val-frac/);
    expect(() => splitIds(new Uint8Array(10), 0.1, 'tiny.txt')).toThrow(/tiny.txt is too small to split/);
    expect(() => splitIds(new Uint8Array(3), 0.5)).toThrow(UserError);
    expect(splitIds(new Uint8Array(4), 0.5).train.length).toBe(2);
  });
});
