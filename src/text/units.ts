// One sequential pass over a list of documents as model symbols, each labelled with the unit it
// belongs to: a line (its characters up to and including its newline; a last line without one is
// still a line) or a whole document. Between two documents comes the separator when the model
// knows it, labelled SEPARATOR_LABEL: fed to the model, never scored. Characters the model lacks
// are skipped and counted (the unknown-character policy of corpus.ts).
//
// Only the current chunk is held, so a file of any size, or a single line of any length, passes
// in bounded memory; each unit's byte range is reported so a long one can be read again on its own.
import { open } from 'node:fs/promises';
import type { Document } from './documents.js';
import { readIdRange, type EncodeStats } from './corpus.js';
import type { Tokenizer } from './tokenizer.js';
import { fsError, readTextSpans, toCodePoints } from './utf8.js';
import type { IdArray } from './vocab.js';

export type UnitKind = 'line' | 'doc';

/** The label of a separator between documents. */
export const SEPARATOR_LABEL = -1;

export interface UnitEnd {
  /** Units are numbered 0, 1, … across all documents, in reading order. */
  unit: number;
  /** Index of its document in the list. */
  doc: number;
  /** Line number in its document, from 1 (0 for a document unit). */
  line: number;
  /** Its byte range in the document's file. */
  start: number;
  end: number;
  /** Symbols of the stream up to and including the unit's last one (separators counted). */
  pos: number;
  /** Symbols it fed (its characters the model knows). */
  symbols: number;
  /** Its characters the model lacks (skipped, not fed). */
  unknown: number;
  /** Its first characters, a line's newline left out (for reports). */
  text: string;
}

export interface ScanChunk {
  ids: IdArray;
  /** The unit of each id, or SEPARATOR_LABEL. */
  labels: Int32Array;
  /** Units that ended with this chunk's ids (each after its last id), in order. */
  ends: UnitEnd[];
  /** Source bytes read for this chunk (progress). */
  bytes: number;
}

export interface ScanOptions {
  unit: UnitKind;
  /** The separator's id between documents, or null to join them directly (a model that lacks it). */
  separator: number | null;
  /** Unknown characters are counted here. */
  stats: EncodeStats;
  /** Characters of each unit kept in `text` (default 0). */
  previewChars?: number;
  /** Ids per chunk (default 65,536). */
  chunkIds?: number;
}

const NEWLINE = 10;

/**
 * Yields the documents' ids in chunks, every chunk freshly allocated (a consumer may keep it).
 * A unit that spans chunks has its end reported in the chunk holding its last id.
 */
export async function* scanUnits(docs: Document[], tok: Tokenizer, o: ScanOptions): AsyncGenerator<ScanChunk> {
  const cap = o.chunkIds ?? 1 << 16, preview = o.previewChars ?? 0;
  // Two more than shown, so that a line's CR LF is recognised and left out however long the line.
  const keep = preview + 2;
  let ids = tok.vocab.allocIds(cap), labels = new Int32Array(cap), ends: UnitEnd[] = [], n = 0, bytes = 0;
  let pos = 0, unit = 0;
  const take = (): ScanChunk => {
    const c = { ids: ids.subarray(0, n), labels: labels.subarray(0, n), ends, bytes };
    ids = tok.vocab.allocIds(cap);
    labels = new Int32Array(cap);
    ends = [];
    n = 0;
    bytes = 0;
    return c;
  };
  const full = () => n === cap;
  /** The unit being read: where it started, what it fed so far, its first characters. */
  let cur = { doc: 0, line: 0, start: 0, symbols: 0, unknown: 0, text: '' };
  const endUnit = (end: number) => {
    let text = cur.text;
    if (preview) {
      // Byte previews are built one byte per code unit: decode them (a cut character shows as U+FFFD).
      if (tok.kind === 'bytes' && /[\x80-\xff]/.test(text)) text = Buffer.from(text, 'latin1').toString('utf8');
      text = text.replace(/\r?\n$/, '').slice(0, preview);
    }
    ends.push({ unit, doc: cur.doc, line: o.unit === 'line' ? cur.line : 0, start: cur.start, end, pos, symbols: cur.symbols, unknown: cur.unknown, text });
    unit++;
  };
  const startUnit = (doc: number, line: number, start: number) => (cur = { doc, line, start, symbols: 0, unknown: 0, text: '' });
  const push = (id: number, label: number) => {
    ids[n] = id;
    labels[n++] = label;
    pos++;
  };

  for (let d = 0; d < docs.length; d++) {
    const doc = docs[d];
    const [lo, hi] = doc.range ?? [0, doc.bytes];
    if (d > 0 && o.separator !== null) {
      push(o.separator, SEPARATOR_LABEL);
      if (full()) yield take();
    }
    let offset = lo;
    if (tok.kind === 'chars' && lo === 0 && (await startsWithBom(doc.path))) offset = 3;
    startUnit(d, 1, offset);
    let lineOpen = false;
    if (tok.kind === 'bytes') {
      for await (const c of readIdRange(doc.path, tok, { start: lo, end: hi, stats: o.stats })) {
        const b = c.ids;
        for (let i = 0; i < b.length; i++) {
          if (preview && cur.symbols < keep) cur.text += String.fromCharCode(b[i]);
          push(b[i], unit);
          cur.symbols++;
          lineOpen = true;
          offset++;
          if (o.unit === 'line' && b[i] === NEWLINE) {
            endUnit(offset);
            startUnit(d, cur.line + 1, offset);
            lineOpen = false;
          }
          if (full()) yield take();
        }
        bytes += c.bytes;
      }
    } else {
      let cps = new Uint32Array(1 << 16);
      for await (const span of readTextSpans(doc.path, { start: lo, end: hi, chunkBytes: 1 << 16 })) {
        const text = span.text;
        if (cps.length < text.length) cps = new Uint32Array(text.length);
        const count = toCodePoints(text, cps);
        o.stats.chars += count;
        // Byte offsets advance by each line's UTF-8 length, so a unit's range is exact.
        let segStart = 0;
        for (let i = 0, u = 0; i < count; i++) {
          const cp = cps[i];
          const width = cp > 0xffff ? 2 : 1;
          if (preview && cur.text.length < keep) cur.text += text.slice(u, u + width);
          u += width;
          const id = tok.vocab.idOf(cp);
          if (id < 0) {
            cur.unknown++;
            o.stats.unknown++;
            o.stats.unknownChars.set(cp, (o.stats.unknownChars.get(cp) ?? 0) + 1);
          } else {
            push(id, unit);
            cur.symbols++;
          }
          lineOpen = true;
          if (o.unit === 'line' && cp === NEWLINE) {
            offset += Buffer.byteLength(text.slice(segStart, u));
            segStart = u;
            endUnit(offset);
            startUnit(d, cur.line + 1, offset);
            lineOpen = false;
          }
          if (full()) yield take();
        }
        offset += Buffer.byteLength(text.slice(segStart));
        bytes += span.bytes;
      }
    }
    // A document unit ends with its document; a last line without a newline is a line too.
    if (o.unit === 'doc' || lineOpen) endUnit(hi);
  }
  if (n > 0 || ends.length > 0) yield take();
}

async function startsWithBom(file: string): Promise<boolean> {
  const fh = await open(file, 'r').catch((e) => Promise.reject(fsError(file, e)));
  try {
    const b = Buffer.alloc(3);
    const { bytesRead } = await fh.read(b, 0, 3, 0);
    return bytesRead === 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
  } finally {
    await fh.close();
  }
}
