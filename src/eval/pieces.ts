// How a text becomes the pieces that rows.ts scores side by side.
// - In context: contiguous pieces of `length` symbols in reading order, each warmed up on the
//   `burnIn` symbols before it (fed, not scored), the first from the zero state as one stream over
//   the whole text is; with one row, each piece continues the one before it (the exact stream).
// - Each unit from a fresh state: one piece per line, read into memory while it is short and read
//   again from the file on its own when long; or one piece per document, read from its file.
import type { Document } from '../text/documents.js';
import type { EncodeStats } from '../text/corpus.js';
import type { Tokenizer } from '../text/tokenizer.js';
import type { ScanChunk, UnitEnd } from '../text/units.js';
import type { IdArray } from '../text/vocab.js';
import type { Piece, PieceSource } from './rows.js';
import type { UnitLedger } from './unit-ledger.js';

const EMPTY = new Uint8Array(0);

/** Reads scan chunks one at a time, reporting the units they end to the ledger. */
class ScanReader {
  chunk: ScanChunk | null = null;
  at = 0;
  /** Source bytes of the chunks before the current one. */
  private before = 0;

  constructor(private readonly scan: AsyncIterator<ScanChunk>, private readonly onEnds: (ends: UnitEnd[]) => void) {}

  /** False once the scan is over. */
  async fill(): Promise<boolean> {
    while (!this.chunk || this.at >= this.chunk.ids.length) {
      const r = await this.scan.next();
      if (r.done) return false;
      this.before += this.chunk?.bytes ?? 0;
      this.chunk = r.value;
      this.at = 0;
      this.onEnds(r.value.ends);
    }
    return true;
  }

  /** Source bytes consumed so far, the current chunk's in proportion. */
  get bytes(): number {
    const c = this.chunk;
    return this.before + (c && c.ids.length ? (c.bytes * this.at) / c.ids.length : 0);
  }

  async close(): Promise<void> {
    await this.scan.return?.();
  }
}

export class InContextPieces implements PieceSource {
  private readonly reader: ScanReader;
  private seq = 0;
  private tail: IdArray = EMPTY;

  /** `continuing`: one row, so each piece carries on the state of the one before (no burn-in). */
  constructor(
    scan: AsyncIterator<ScanChunk>,
    private readonly tok: Tokenizer,
    private readonly o: { length: number; burnIn: number; continuing: boolean; ledger?: UnitLedger },
  ) {
    if (o.length < o.burnIn) throw new RangeError('a piece must be at least one burn-in long');
    this.reader = new ScanReader(scan, (ends) => {
      for (const e of ends) o.ledger?.unitEnded(e, e.pos > 0 ? Math.floor((e.pos - 1) / o.length) : -1);
    });
  }

  get bytes(): number {
    return this.reader.bytes;
  }

  async next(): Promise<Piece | null> {
    const L = this.o.length, B = this.o.burnIn;
    const ids = this.tok.vocab.allocIds(L), labels = new Int32Array(L);
    let n = 0;
    while (n < L && (await this.reader.fill())) {
      const c = this.reader.chunk!, k = Math.min(L - n, c.ids.length - this.reader.at);
      ids.set(c.ids.subarray(this.reader.at, this.reader.at + k), n);
      labels.set(c.labels.subarray(this.reader.at, this.reader.at + k), n);
      n += k;
      this.reader.at += k;
    }
    if (n === 0) return null;
    const seq = this.seq++;
    const fresh = seq === 0 || !this.o.continuing;
    const piece: Piece = { seq, burn: fresh && seq > 0 ? this.tail : EMPTY, body: ids.subarray(0, n), labels: labels.subarray(0, n), fresh };
    this.tail = ids.slice(Math.max(0, n - B), n);
    return piece;
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}

export class LinePieces implements PieceSource {
  private readonly reader: ScanReader;
  private ends: UnitEnd[] = [];
  private endAt = 0;
  private seq = 0;
  /** The unit being gathered: views of its ids in the chunks (never reused), or null once too long to hold. */
  private parts: IdArray[] | null = [];
  private held = 0;
  private partsUnit = -1;
  private readonly throwaway: EncodeStats = { chars: 0, unknown: 0, unknownChars: new Map() };

  /** Lines longer than `holdIds` symbols are read again from their file when their row gets to them. */
  constructor(
    scan: AsyncIterator<ScanChunk>,
    private readonly tok: Tokenizer,
    private readonly docs: Document[],
    private readonly o: { holdIds: number; ledger?: UnitLedger },
  ) {
    this.reader = new ScanReader(scan, (ends) => {
      this.ends = this.endAt < this.ends.length ? [...this.ends.slice(this.endAt), ...ends] : ends;
      this.endAt = 0;
    });
  }

  get bytes(): number {
    return this.reader.bytes;
  }

  async next(): Promise<Piece | null> {
    for (;;) {
      // Units that ended: each becomes a piece, or (fewer than two symbols: nothing to score) is done at once.
      while (this.endAt < this.ends.length) {
        const e = this.ends[this.endAt++];
        const c = this.reader.chunk;
        // Gather its ids still in the chunk (labels only grow, so they come first).
        if (c) this.gather(c, e.unit);
        const parts = this.partsUnit === e.unit ? this.parts : [];
        this.parts = [];
        this.held = 0;
        this.partsUnit = -1;
        if (e.symbols < 2) {
          this.o.ledger?.unitEnded(e, this.seq - 1);
          continue;
        }
        const seq = this.seq++;
        this.o.ledger?.unitEnded(e, seq);
        return { seq, burn: EMPTY, body: parts ? this.join(parts) : { path: this.docs[e.doc].path, start: e.start, end: e.end, stats: this.throwaway }, labels: e.unit, fresh: true };
      }
      const c = this.reader.chunk;
      if (c && this.reader.at < c.ids.length) {
        // The rest of the chunk belongs to a unit that goes on into the next one.
        this.gather(c, c.labels[this.reader.at] < 0 ? this.partsUnit : c.labels[this.reader.at]);
      }
      if (!(await this.reader.fill())) return null;
    }
  }

  private gather(c: ScanChunk, unit: number): void {
    let at = this.reader.at;
    while (at < c.ids.length && c.labels[at] < 0) at++;
    if (this.partsUnit !== unit) {
      this.parts = [];
      this.held = 0;
      this.partsUnit = unit;
    }
    const from = at;
    while (at < c.ids.length && c.labels[at] === unit) at++;
    if (this.parts && at > from) {
      this.held += at - from;
      if (this.held > this.o.holdIds) this.parts = null;
      else this.parts.push(c.ids.subarray(from, at));
    }
    this.reader.at = at;
  }

  private join(parts: IdArray[]): IdArray {
    if (parts.length === 1) return parts[0];
    const ids = this.tok.vocab.allocIds(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      ids.set(p, at);
      at += p.length;
    }
    return ids;
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}

export class DocPieces implements PieceSource {
  private seq = 0;
  private readonly reading = new Map<number, { end: UnitEnd; stats: EncodeStats }>();

  /** Each document read by the row that scores it; its unknown characters counted into `stats` once it is done. */
  constructor(private readonly docs: Document[], private readonly stats: EncodeStats, private readonly ledger?: UnitLedger) {}

  async next(): Promise<Piece | null> {
    const d = this.seq;
    if (d >= this.docs.length) return null;
    this.seq++;
    const doc = this.docs[d];
    const [start, end] = doc.range ?? [0, doc.bytes];
    const stats: EncodeStats = { chars: 0, unknown: 0, unknownChars: new Map() };
    const e: UnitEnd = { unit: d, doc: d, line: 0, start, end, pos: 0, symbols: 0, unknown: 0, text: '' };
    this.reading.set(d, { end: e, stats });
    this.ledger?.unitEnded(e, d);
    return { seq: d, burn: EMPTY, body: { path: doc.path, start, end, stats }, labels: d, fresh: true };
  }

  /** A document scored whole: its counts are final. */
  done(seq: number): void {
    const r = this.reading.get(seq);
    if (!r) return;
    this.reading.delete(seq);
    r.end.unknown = r.stats.unknown;
    this.stats.chars += r.stats.chars;
    this.stats.unknown += r.stats.unknown;
    for (const [cp, k] of r.stats.unknownChars) this.stats.unknownChars.set(cp, (this.stats.unknownChars.get(cp) ?? 0) + k);
  }

  async close(): Promise<void> {}
}
