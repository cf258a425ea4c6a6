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
  private readonly ends: UnitEnd[] = [];
  private seq = 0;
  /** The unit being gathered, its ids so far (null once it is too long to hold). */
  private acc: number[] | null = [];
  private accUnit = -1;
  private readonly throwaway: EncodeStats = { chars: 0, unknown: 0, unknownChars: new Map() };

  /** Lines longer than `holdIds` symbols are read again from their file when their row gets to them. */
  constructor(
    scan: AsyncIterator<ScanChunk>,
    private readonly tok: Tokenizer,
    private readonly docs: Document[],
    private readonly o: { holdIds: number; ledger?: UnitLedger },
  ) {
    this.reader = new ScanReader(scan, (ends) => this.ends.push(...ends));
  }

  get bytes(): number {
    return this.reader.bytes;
  }

  async next(): Promise<Piece | null> {
    for (;;) {
      // Units that ended: each becomes a piece, or (fewer than two symbols: nothing to score) is done at once.
      while (this.ends.length) {
        const e = this.ends[0];
        const c = this.reader.chunk;
        // Gather its ids still in the chunk (labels only grow, so they come first).
        if (c) this.gather(c, e.unit);
        this.ends.shift();
        const held = this.accUnit === e.unit ? this.acc : [];
        this.acc = [];
        this.accUnit = -1;
        if (e.symbols < 2) {
          this.o.ledger?.unitEnded(e, this.seq - 1);
          continue;
        }
        const seq = this.seq++;
        this.o.ledger?.unitEnded(e, seq);
        let body: Piece['body'];
        if (held) {
          const ids = this.tok.vocab.allocIds(held.length);
          ids.set(held);
          body = ids;
        } else {
          body = { path: this.docs[e.doc].path, start: e.start, end: e.end, stats: this.throwaway };
        }
        return { seq, burn: EMPTY, body, labels: e.unit, fresh: true };
      }
      const c = this.reader.chunk;
      if (c && this.reader.at < c.ids.length) {
        // The rest of the chunk belongs to a unit that goes on into the next one.
        this.gather(c, c.labels[this.reader.at] < 0 ? this.accUnit : c.labels[this.reader.at]);
      }
      if (!(await this.reader.fill())) return null;
    }
  }

  private gather(c: ScanChunk, unit: number): void {
    let at = this.reader.at;
    while (at < c.ids.length && c.labels[at] < 0) at++;
    if (this.accUnit !== unit) {
      this.acc = [];
      this.accUnit = unit;
    }
    while (at < c.ids.length && c.labels[at] === unit) {
      if (this.acc) {
        this.acc.push(c.ids[at]);
        if (this.acc.length > this.o.holdIds) this.acc = null;
      }
      at++;
    }
    this.reader.at = at;
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}

export class DocPieces implements PieceSource {
  private seq = 0;

  /** Each document read by the row that scores it; its unknown characters counted into `stats`. */
  constructor(private readonly docs: Document[], private readonly stats: EncodeStats, private readonly ledger?: UnitLedger) {}

  async next(): Promise<Piece | null> {
    const d = this.seq;
    if (d >= this.docs.length) return null;
    this.seq++;
    const doc = this.docs[d];
    const [start, end] = doc.range ?? [0, doc.bytes];
    this.ledger?.unitEnded({ unit: d, doc: d, line: 0, start, end, pos: 0, symbols: 0, text: '' }, d);
    return { seq: d, burn: EMPTY, body: { path: doc.path, start, end, stats: this.stats }, labels: d, fresh: true };
  }

  async close(): Promise<void> {}
}
