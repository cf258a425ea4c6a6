// Reading a corpus file into token ids.
//
// Unknown-character policy: when text is encoded with an existing vocabulary (a validation file
// given with --val, or any file given to eval or bench), characters that are not in that
// vocabulary are skipped: they are not fed to the model and not scored, as if they were absent
// from the file. They are counted (`unknown`, and per character in `unknownChars`) so that the
// caller can report them; loss, bits/char and perplexity are over the known characters only.
//
// Files are read twice as a stream (pass 1: character set or counts, pass 2: ids) so that the
// only large allocation is the id array itself, in the smallest type that holds the ids.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { BYTE_VOCAB, CharTokenizer, type Tokenizer, type TokenizerKind } from './tokenizer.js';
import { checkTextFile, fsError, readTextChunks, readTextSpans, toCodePoints } from './utf8.js';
import { Vocab, type IdArray } from './vocab.js';

export interface EncodeStats {
  /** Characters (code points) in the file, the byte-order mark not included; bytes for a byte model. */
  chars: number;
  /** Characters skipped because the vocabulary lacks them. */
  unknown: number;
  /** Skipped code point → how often. */
  unknownChars: Map<number, number>;
}

export interface Corpus extends EncodeStats {
  ids: IdArray;
  vocab: Vocab;
  tokenizer: TokenizerKind;
}

const CHUNK_BYTES = 1 << 20;

/**
 * Reads a UTF-8 text file. Without `opts.vocab` the vocabulary is built from the file; with it,
 * characters outside it follow the unknown-character policy above. With `tokenizer: 'bytes'` the
 * ids are the file's raw bytes (no decoding, nothing unknown) and the vocabulary is BYTE_VOCAB.
 */
export async function readCorpus(path: string, opts: { vocab?: Vocab; tokenizer?: TokenizerKind } = {}): Promise<Corpus> {
  if (opts.tokenizer === 'bytes') return readBytes(path);
  let cps = new Uint32Array(CHUNK_BYTES);
  const chunks = async function* () {
    for await (const text of readTextChunks(path, CHUNK_BYTES)) {
      if (cps.length < text.length) cps = new Uint32Array(text.length);
      yield toCodePoints(text, cps);
    }
  };

  let vocab = opts.vocab;
  const stats: EncodeStats = { chars: 0, unknown: 0, unknownChars: new Map() };
  if (!vocab) {
    const seen = new Uint8Array(0x110000);
    for await (const n of chunks()) {
      for (let i = 0; i < n; i++) seen[cps[i]] = 1;
      stats.chars += n;
    }
    const set: number[] = [];
    seen.forEach((v, cp) => v && set.push(cp));
    vocab = Vocab.fromCodePoints(set);
  } else {
    for await (const n of chunks()) {
      for (let i = 0; i < n; i++) if (vocab.idOf(cps[i]) < 0) countUnknown(stats, cps[i]);
      stats.chars += n;
    }
  }
  if (stats.chars === 0) throw new UserError(`${path} is empty`);
  if (stats.unknown === stats.chars) throw noneKnown(path);

  const ids = vocab.allocIds(stats.chars - stats.unknown);
  let k = 0;
  for await (const n of chunks()) {
    for (let i = 0; i < n; i++) {
      const id = vocab.idOf(cps[i]);
      if (id < 0) continue;
      if (k === ids.length) throw changed(path);
      ids[k++] = id;
    }
  }
  if (k !== ids.length) throw changed(path);
  return { ids, vocab, tokenizer: 'chars', ...stats };
}

async function readBytes(path: string): Promise<Corpus> {
  const size = await checkTextFile(path);
  const ids = new Uint8Array(size);
  const fh = await open(path, 'r').catch((e) => Promise.reject(fsError(path, e)));
  try {
    for (let off = 0; off < size; ) {
      const { bytesRead } = await fh.read(ids, off, Math.min(size - off, CHUNK_BYTES), off);
      if (bytesRead === 0) throw changed(path);
      off += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return { ids, vocab: BYTE_VOCAB, tokenizer: 'bytes', chars: size, unknown: 0, unknownChars: new Map() };
}

export interface IdChunk {
  ids: IdArray;
  /** File bytes these ids came from (unknown characters included). */
  bytes: number;
}

/**
 * Yields the ids of the byte range [start, end) of `path` (which must begin at a character start),
 * with the bytes each chunk covers. Unknown characters are skipped and counted into `stats`.
 * A chunk is only valid until the next one is requested.
 */
export async function* readIdRange(
  path: string,
  tok: Tokenizer,
  o: { start?: number; end?: number; chunkBytes?: number; stats?: EncodeStats } = {},
): AsyncGenerator<IdChunk> {
  const stats = o.stats ?? { chars: 0, unknown: 0, unknownChars: new Map() };
  const chunkBytes = o.chunkBytes ?? 1 << 16;
  if (tok.kind === 'bytes') {
    const size = await checkTextFile(path);
    const start = o.start ?? 0, end = Math.min(o.end ?? size, size);
    if (end <= start) return;
    const stream = createReadStream(path, { highWaterMark: chunkBytes, start, end: end - 1 });
    try {
      for await (const buf of stream as AsyncIterable<Buffer>) {
        stats.chars += buf.length;
        yield { ids: buf, bytes: buf.length };
      }
    } catch (e) {
      throw fsError(path, e);
    } finally {
      stream.destroy();
    }
    return;
  }
  const vocab = tok.vocab;
  let cps = new Uint32Array(chunkBytes);
  let out = vocab.allocIds(chunkBytes);
  for await (const { text, bytes } of readTextSpans(path, { chunkBytes, start: o.start, end: o.end })) {
    if (cps.length < text.length) {
      cps = new Uint32Array(text.length);
      out = vocab.allocIds(text.length);
    }
    const n = toCodePoints(text, cps);
    stats.chars += n;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const id = vocab.idOf(cps[i]);
      if (id < 0) countUnknown(stats, cps[i]);
      else out[k++] = id;
    }
    yield { ids: out.subarray(0, k), bytes };
  }
}

/**
 * Yields the ids of a file in chunks of at most `chunkChars`, for files too large to hold. The
 * unknown-character policy applies; `stats` (if given) is updated as the file is read, and the
 * totals are also the generator's return value.
 */
export async function* streamEncoded(
  path: string,
  model: Vocab | Tokenizer,
  chunkChars = 1 << 16,
  stats: EncodeStats = { chars: 0, unknown: 0, unknownChars: new Map() },
): AsyncGenerator<IdArray, EncodeStats> {
  if (!(Number.isInteger(chunkChars) && chunkChars > 0)) throw new RangeError(`chunkChars must be a positive integer, got ${chunkChars}`);
  const tok = model instanceof Vocab ? new CharTokenizer(model) : model;
  if (tok.kind === 'bytes') {
    // A copy, because the consumer may keep a chunk after asking for the next one.
    for await (const c of readIdRange(path, tok, { chunkBytes: chunkChars, stats })) yield c.ids.slice();
    return stats;
  }
  const vocab = tok.vocab;
  let cps = new Uint32Array(CHUNK_BYTES);
  let out = vocab.allocIds(chunkChars);
  let k = 0;
  for await (const text of readTextChunks(path, CHUNK_BYTES)) {
    if (cps.length < text.length) cps = new Uint32Array(text.length);
    const n = toCodePoints(text, cps);
    stats.chars += n;
    for (let i = 0; i < n; i++) {
      const id = vocab.idOf(cps[i]);
      if (id < 0) {
        countUnknown(stats, cps[i]);
        continue;
      }
      out[k++] = id;
      if (k === chunkChars) {
        yield out;
        out = vocab.allocIds(chunkChars); // the consumer may keep the previous chunk
        k = 0;
      }
    }
  }
  if (stats.chars === 0) throw new UserError(`${path} is empty`);
  if (stats.unknown === stats.chars) throw noneKnown(path);
  if (k > 0) yield out.subarray(0, k);
  return stats;
}

function countUnknown(stats: EncodeStats, cp: number): void {
  stats.unknown++;
  stats.unknownChars.set(cp, (stats.unknownChars.get(cp) ?? 0) + 1);
}

function noneKnown(path: string): UserError {
  return new UserError(`${path} has no character of the model's vocabulary`);
}

function changed(path: string): UserError {
  return new UserError(`${path} changed while it was being read; try again`);
}
