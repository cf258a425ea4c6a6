import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromCheckpoint, toCheckpoint } from '../src/model/serialize.js';
import { initParams, paramLayout } from '../src/model/params.js';
import { validateConfig } from '../src/model/config.js';
import { Rng } from '../src/rng.js';
import { BYTE_VOCAB, ByteTokenizer, CharTokenizer, makeTokenizer, readCorpus, readIdRange, streamEncoded, Vocab } from '../src/text/index.js';

const dir = mkdtempSync(join(tmpdir(), 'charnn-tok-'));
// BOM, CRLF, an emoji (4 bytes), a 2-byte and a 3-byte character.
const TEXT = '\ufeffHello, wörld 😀\r\nnaïve €5\r\n';

describe('tokenizers', () => {
  it('bytes: encode is the UTF-8 bytes, and the streaming decoder rebuilds the text one byte at a time', () => {
    const tok = new ByteTokenizer();
    const { ids, skipped } = tok.encode(TEXT);
    expect(ids).toEqual(Array.from(Buffer.from(TEXT, 'utf8')));
    expect(skipped).toEqual([]);
    const d = tok.decoder();
    const pieces = ids.map((id) => d.push(id));
    // Inside the emoji nothing is complete yet.
    const emoji = ids.indexOf(0xf0);
    expect(pieces.slice(emoji, emoji + 3)).toEqual(['', '', '']);
    expect(pieces.join('') + d.end()).toBe(TEXT);
  });

  it('bytes: an unfinished UTF-8 sequence decodes to U+FFFD at the end instead of failing', () => {
    const d = new ByteTokenizer().decoder();
    expect(d.push(0x41) + d.push(0xe2) + d.push(0x82) + d.end()).toBe('A\ufffd');
    expect(() => d.push(256)).toThrow(RangeError);
  });

  it('chars: unknown characters are skipped and returned; decoding maps ids back to code points', () => {
    const tok = new CharTokenizer(Vocab.fromText('abc😀'));
    const { ids, skipped } = tok.encode('a😀xbc y');
    expect(skipped).toEqual(['x', ' ', 'y']);
    const d = tok.decoder();
    expect(ids.map((id) => d.push(id)).join('') + d.end()).toBe('a😀bc');
  });

  it('makeTokenizer: absent kind is chars, bytes needs the byte vocabulary', () => {
    expect(makeTokenizer(undefined, Vocab.fromText('ab')).kind).toBe('chars');
    expect(makeTokenizer('bytes', BYTE_VOCAB).size).toBe(256);
    expect(() => makeTokenizer('bytes', Vocab.fromText('ab'))).toThrow(RangeError);
  });
});

describe('reading files in bytes mode', () => {
  const file = join(dir, 'mixed.txt');
  writeFileSync(file, TEXT);
  const raw = Buffer.from(TEXT, 'utf8');

  it('readCorpus gives the raw bytes, BOM and CRLF included, with nothing unknown', async () => {
    const c = await readCorpus(file, { tokenizer: 'bytes' });
    expect(c.tokenizer).toBe('bytes');
    expect(c.vocab.size).toBe(256);
    expect(Array.from(c.ids)).toEqual(Array.from(raw));
    expect(c.unknown).toBe(0);
    expect(c.chars).toBe(raw.length);
  });

  it('any file works, even one that is not UTF-8 (chars mode refuses it)', async () => {
    const bin = join(dir, 'binary.bin');
    writeFileSync(bin, Uint8Array.from([0, 255, 0xc3, 0x28, 10, 0xfe]));
    const c = await readCorpus(bin, { tokenizer: 'bytes' });
    expect(Array.from(c.ids)).toEqual([0, 255, 0xc3, 0x28, 10, 0xfe]);
    await expect(readCorpus(bin)).rejects.toThrow(/UTF-8/);
  });

  it('streamEncoded with the byte tokenizer yields the same bytes in chunks', async () => {
    const out: number[] = [];
    for await (const ids of streamEncoded(file, new ByteTokenizer(), 5)) out.push(...ids);
    expect(out).toEqual(Array.from(raw));
  });

  it('readIdRange over character-aligned ranges: the BOM is stripped at offset 0 only, bytes covered add up', async () => {
    const vocab = Vocab.fromText(TEXT + '\ufeff');
    const tok = new CharTokenizer(vocab);
    const collect = async (start: number, end: number) => {
      const ids: number[] = [];
      let bytes = 0;
      for await (const c of readIdRange(file, tok, { start, end, chunkBytes: 7 })) {
        ids.push(...c.ids);
        bytes += c.bytes;
      }
      return { text: vocab.decode(ids), bytes };
    };
    const split = Buffer.byteLength('\ufeffHello, w', 'utf8');
    const a = await collect(0, split), b = await collect(split, raw.length);
    expect(a.text + b.text).toBe(TEXT.slice(1));
    expect(a.bytes + b.bytes).toBe(raw.length);
    // A range that starts on a U+FEFF inside the text keeps it: it is a character there.
    const mid = join(dir, 'feff-inside.txt');
    writeFileSync(mid, 'ab\ufeffcd');
    const v2 = Vocab.fromText('ab\ufeffcd');
    const decode = async (start: number) => {
      const ids: number[] = [];
      for await (const c of readIdRange(mid, new CharTokenizer(v2), { start })) ids.push(...c.ids);
      return v2.decode(ids);
    };
    expect(await decode(2)).toBe('\ufeffcd');
    expect(await decode(0)).toBe('ab\ufeffcd');
  });
});

describe('checkpoint tokenizer metadata', () => {
  const config = validateConfig({ cell: 'lstm', vocab: 256, embed: 4, hidden: 4, layers: 1 });
  const layout = paramLayout(config);
  const params = initParams(config, layout, new Rng(1));
  const training = { step: 0, best_val_loss: null, val_loss: null, train_loss: null, chars_seen: 0, seconds: 0, backend: 'js', corpus: 'x', seed: 1, rng: new Rng(1).state() };
  const roundTrip = (ck: ReturnType<typeof toCheckpoint>) => fromCheckpoint('m.ckpt', ck.metadata, new Map(ck.tensors.map((t) => [t.name, t])));

  it('bytes is stored and read back', () => {
    const ck = toCheckpoint({ config, vocab: BYTE_VOCAB, tokenizer: 'bytes', params, training });
    expect(ck.metadata.tokenizer).toBe('bytes');
    expect(roundTrip(ck).tokenizer).toBe('bytes');
  });

  it('a checkpoint without the key (older charnn) loads as chars', () => {
    const ck = toCheckpoint({ config, vocab: BYTE_VOCAB, params, training });
    delete ck.metadata.tokenizer;
    expect(roundTrip(ck).tokenizer).toBe('chars');
  });

  it('an unknown tokenizer, or bytes with another vocabulary, is refused naming the file', () => {
    const ck = toCheckpoint({ config, vocab: BYTE_VOCAB, params, training });
    ck.metadata.tokenizer = 'words';
    expect(() => roundTrip(ck)).toThrow(/m\.ckpt .*unknown tokenizer "words"/);
    const small = validateConfig({ cell: 'lstm', vocab: 2, embed: 4, hidden: 4, layers: 1 });
    const ck2 = toCheckpoint({ config: small, vocab: Vocab.fromText('ab'), tokenizer: 'bytes', params: initParams(small, paramLayout(small), new Rng(1)), training });
    expect(() => roundTrip(ck2)).toThrow(/m\.ckpt .*byte vocabulary/);
  });
});
