// Streaming UTF-8 reading of a text file with errors a user can act on. Text arrives as chunks
// of whole code points, so a surrogate pair is never split between two chunks.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { UserError, fileError } from '../errors.js';

/** Checks that `path` is a non-empty regular file; returns its size in bytes. */
export async function checkTextFile(path: string): Promise<number> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw fsError(path, e);
  }
  if (st.isDirectory()) throw new UserError(`${path} is a directory, expected a text file`);
  if (!st.isFile()) throw new UserError(`${path} is not a regular file, expected a text file`);
  if (st.size === 0) throw new UserError(`${path} is empty`);
  return st.size;
}

export function fsError(path: string, e: unknown): Error {
  if ((e as NodeJS.ErrnoException)?.code === 'EISDIR') return new UserError(`${path} is a directory, expected a text file`);
  return fileError(e, path, 'read');
}

/** Yields the decoded text of `path`, a byte-order mark stripped, line endings untouched. */
export async function* readTextChunks(path: string, chunkBytes = 1 << 20): AsyncGenerator<string> {
  for await (const span of readTextSpans(path, { chunkBytes })) if (span.text) yield span.text;
}

export interface TextSpan {
  text: string;
  /** File bytes this text came from (a character split across reads counts where it began). */
  bytes: number;
}

/**
 * Yields the decoded text of the byte range [start, end) of `path` with the bytes each piece
 * covers. The range must begin at a character start; a byte-order mark is stripped only at
 * offset 0 (further in, U+FEFF is an ordinary character of the text).
 */
export async function* readTextSpans(path: string, o: { chunkBytes?: number; start?: number; end?: number } = {}): AsyncGenerator<TextSpan> {
  const size = await checkTextFile(path);
  const start = o.start ?? 0, end = Math.min(o.end ?? size, size);
  if (end <= start) return;
  // fatal: invalid bytes must stop the run, not turn silently into U+FFFD training characters.
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: start > 0 });
  const stream = createReadStream(path, { highWaterMark: o.chunkBytes ?? 1 << 20, start, end: end - 1 });
  let offset = start;
  try {
    for await (const buf of stream as AsyncIterable<Buffer>) {
      if (offset === 0 && buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))) {
        throw new UserError(`${path} looks like UTF-16 text; convert it to UTF-8`);
      }
      const nul = buf.indexOf(0);
      if (nul >= 0) throw new UserError(`${path} does not look like UTF-8 text (NUL byte at offset ${offset + nul})`);
      let text: string;
      try {
        text = decoder.decode(buf, { stream: true });
      } catch {
        const at = offset + firstInvalidUtf8(buf);
        throw new UserError(`${path} is not valid UTF-8 (bad byte sequence near offset ${at}); convert it to UTF-8`);
      }
      offset += buf.length;
      yield { text, bytes: buf.length };
    }
    let tail: string;
    try {
      tail = decoder.decode();
    } catch {
      throw new UserError(`${path} is not valid UTF-8 (it ends in the middle of a character)`);
    }
    if (tail) yield { text: tail, bytes: 0 };
  } catch (e) {
    throw e instanceof UserError ? e : fsError(path, e);
  } finally {
    stream.destroy();
  }
}

/** The first character start at or after byte `offset` (UTF-8 continuation bytes are 10xxxxxx). */
export async function charStartAtOrAfter(path: string, offset: number): Promise<number> {
  const fh = await open(path, 'r').catch((e) => Promise.reject(fsError(path, e)));
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, offset);
    let i = 0;
    // At most three: a longer run is invalid UTF-8, which decoding reports with its offset.
    while (i < Math.min(3, bytesRead) && (b[i] & 0xc0) === 0x80) i++;
    return offset + i;
  } catch (e) {
    throw fsError(path, e);
  } finally {
    await fh.close();
  }
}

// Only used to word the error: where in this chunk the first malformed sequence starts. Leading
// continuation bytes may finish a character begun in the previous chunk, so they are skipped.
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < 3 && i < b.length && (b[i] & 0xc0) === 0x80) i++;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    // Length and allowed range of the second byte (which excludes overlongs and surrogates).
    const [n, lo, hi] =
      c >= 0xc2 && c <= 0xdf ? [1, 0x80, 0xbf]
      : c === 0xe0 ? [2, 0xa0, 0xbf]
      : c === 0xed ? [2, 0x80, 0x9f]
      : c >= 0xe1 && c <= 0xef ? [2, 0x80, 0xbf]
      : c === 0xf0 ? [3, 0x90, 0xbf]
      : c === 0xf4 ? [3, 0x80, 0x8f]
      : c >= 0xf1 && c <= 0xf3 ? [3, 0x80, 0xbf]
      : [0, 0, 0];
    if (n === 0) return i;
    for (let k = 1; k <= n; k++) {
      if (i + k >= b.length) return b.length; // continues into the next chunk
      const x = b[i + k];
      if (k === 1 ? x < lo || x > hi : (x & 0xc0) !== 0x80) return i;
    }
    i += n + 1;
  }
  return b.length;
}

/**
 * Decodes the code points of `s` into `out` (which must have room for s.length values) and
 * returns how many there are.
 */
export function toCodePoints(s: string, out: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    out[n++] = c;
  }
  return n;
}

/**
 * How many characters (code points, a leading byte-order mark not counted) the first `byte`
 * bytes of a UTF-8 file hold: converts a split given in bytes into character positions.
 */
export async function charsBeforeByte(path: string, byte: number): Promise<number> {
  if (byte <= 0) return 0;
  let n = 0, first = true;
  for await (const buf of createReadStream(path, { start: 0, end: byte - 1, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let i = 0;
    if (first && buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3;
    first = false;
    for (; i < buf.length; i++) if ((buf[i] & 0xc0) !== 0x80) n++;
  }
  return n;
}

/** The byte offset at which character `n` (0-based, a leading byte-order mark not counted) starts. */
export async function byteOfChar(path: string, n: number): Promise<number> {
  let seen = 0, offset = 0, first = true;
  for await (const buf of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let i = 0;
    if (first && buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3;
    first = false;
    for (; i < buf.length; i++) {
      if ((buf[i] & 0xc0) === 0x80) continue;
      if (seen === n) return offset + i;
      seen++;
    }
    offset += buf.length;
  }
  return offset;
}
