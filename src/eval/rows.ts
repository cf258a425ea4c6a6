// Scoring pieces of text on the rows of one inference batch, each row taking the next piece when
// its own ends. A piece is a stretch of symbols that starts from the zero state (its first symbol
// only an input, then its burn-in fed unscored, then its body scored) or, with one row, continues
// the piece before it with the state carried. Each target's loss goes to the unit its label names.
// A fresh piece starts at a chunk boundary, where its row's state alone is zeroed; a row whose
// piece ends inside a chunk is padded to the boundary (the model is causal and rows independent,
// so padding changes no score). This is what scores many short lines side by side.
import { Weights, Workspace } from '../model/model.js';
import { readIdRange, type EncodeStats, type IdChunk } from '../text/corpus.js';
import type { Tokenizer } from '../text/tokenizer.js';
import type { IdArray } from '../text/vocab.js';

/** A byte range of a file read by the row when it gets to it (a unit too long to hold). */
export interface RangeBody {
  path: string;
  start: number;
  end: number;
  /** Where its unknown characters are counted (a throwaway tally when they were counted already). */
  stats: EncodeStats;
}

export interface Piece {
  /** Order of creation, from 0: the ledger emits a unit once every piece up to its last is done. */
  seq: number;
  /** Ids fed just before the body, none of them scored: they only warm the state for it. */
  burn: IdArray;
  body: IdArray | RangeBody;
  /** The unit of each body id (negative: fed, not scored), or one unit for the whole body. */
  labels: Int32Array | number;
  /** False: continues the previous piece on the same row, state carried (one row only). */
  fresh: boolean;
}

export interface PieceSource {
  /** The next piece in order; null once there are none. */
  next(): Promise<Piece | null>;
  /** Told when a piece has been scored whole, before anyone else is. */
  done?(seq: number): void;
}

export interface RowOptions {
  rows: number;
  seq: number;
  tok: Tokenizer;
  signal?: AbortSignal;
  /** Scored targets by unit: `chars` of them, `nats` in all (absent: only the totals are kept). */
  onScore?: (unit: number, chars: number, nats: number) => void;
  /** A piece whose every target has been scored (and added through onScore). */
  onPieceDone?: (seq: number) => void;
  /** After every chunk, with the file bytes that range bodies have read so far. */
  onChunk?: (chars: number, rangeBytes: number) => void;
}

export interface RowScore {
  chars: number;
  nats: number;
  seconds: number;
  partial: boolean;
}

const EMPTY = new Uint8Array(0);

class Row {
  piece: Piece | null = null;
  /** The next piece, taken already but waiting for a chunk boundary. */
  waiting: Piece | null = null;
  private cur: IdArray = EMPTY;
  private pos = 0;
  private inBody = false;
  private bodyAt = 0;
  private it: AsyncIterator<IdChunk> | null = null;
  /** An id read ahead by peek(), or -1. */
  private ahead = -1;
  /** The input of the next step: the last id read. */
  last = 0;
  /** Pieces finished during this chunk, to report once its losses are read. */
  readonly finished: number[] = [];
  rangeBytes = 0;

  constructor(private readonly tok: Tokenizer) {}

  /** Starts `p`: a fresh piece's first id is only an input (nothing before it to predict it from). */
  async begin(p: Piece): Promise<void> {
    this.piece = p;
    this.inBody = false;
    this.cur = p.burn;
    this.pos = 0;
    this.bodyAt = 0;
    this.ahead = -1;
    if (!p.fresh) return;
    const x = await this.read();
    if (x >= 0) this.last = x;
  }

  /** The next target without consuming it; -1 at the piece's end. */
  async peek(): Promise<number> {
    if (this.ahead < 0) this.ahead = await this.read();
    return this.ahead;
  }

  /** The next target when it is at hand (no read needed), else -3: then await pull(). */
  next(): number {
    if (this.ahead >= 0 || this.pos >= this.cur.length) return -3;
    if (this.inBody) this.bodyAt++;
    return this.cur[this.pos++];
  }

  /** The next target; -1 at the piece's end. */
  async pull(): Promise<number> {
    if (this.ahead >= 0) {
      const x = this.ahead;
      this.ahead = -1;
      return x;
    }
    return this.read();
  }

  /** The label of the target last pulled: -2 for a burn-in target (fed, not scored). */
  label(): number {
    if (!this.inBody) return -2;
    const l = this.piece!.labels;
    return typeof l === 'number' ? l : l[this.bodyAt - 1];
  }

  /** Marks the piece finished. */
  end(): void {
    this.finished.push(this.piece!.seq);
    this.piece = null;
  }

  private async read(): Promise<number> {
    while (this.pos >= this.cur.length) {
      if (!this.inBody) {
        this.inBody = true;
        const b = this.piece!.body;
        this.cur = EMPTY;
        this.pos = 0;
        if (isIds(b)) this.cur = b;
        else this.it = readIdRange(b.path, this.tok, { start: b.start, end: b.end, stats: b.stats })[Symbol.asyncIterator]();
        continue;
      }
      if (!this.it) return -1;
      const r = await this.it.next();
      if (r.done) {
        this.it = null;
        return -1;
      }
      this.cur = r.value.ids;
      this.pos = 0;
      this.rangeBytes += r.value.bytes;
    }
    if (this.inBody) this.bodyAt++;
    return this.cur[this.pos++];
  }

  async close(): Promise<void> {
    await this.it?.return?.();
    this.it = null;
  }
}

function isIds(b: IdArray | RangeBody): b is IdArray {
  return b instanceof Uint8Array || b instanceof Uint16Array || b instanceof Uint32Array;
}

/** Scores every piece of `src`; rows × seq positions per chunk. Memory: the pieces in flight and one workspace. */
export async function scoreRows(w: Weights, src: PieceSource, o: RowOptions): Promise<RowScore> {
  const S = o.rows, T = o.seq;
  const start = performance.now();
  const rows = Array.from({ length: S }, () => new Row(o.tok));
  let chars = 0, nats = 0, partial = false, exhausted = false;
  const ws = new Workspace(w, S, T, false);
  const inputs = new Float32Array(S * T), targets = new Float32Array(S * T);
  const labels = new Int32Array(S * T);
  const resets: number[] = [];
  const take = async (): Promise<Piece | null> => {
    if (exhausted) return null;
    const p = await src.next();
    if (!p) exhausted = true;
    return p;
  };
  try {
    for (;;) {
      if (o.signal?.aborted) {
        partial = true;
        break;
      }
      // At the boundary: a row whose piece has no target left takes the next ones until one has.
      resets.length = 0;
      for (let s = 0; s < S; s++) {
        const r = rows[s];
        let reset = false;
        for (;;) {
          if (r.piece) {
            if ((await r.peek()) >= 0) break;
            r.end();
          }
          const p = r.waiting ?? (await take());
          r.waiting = null;
          if (!p) break;
          await r.begin(p);
          reset ||= p.fresh;
        }
        if (reset) resets.push(s);
      }
      let steps = 0;
      for (let s = 0; s < S; s++) {
        const r = rows[s];
        for (let t = 0; t < T; t++) {
          const i = t * S + s;
          let x = r.piece ? r.next() : -1;
          if (x === -3) x = await r.pull();
          while (x < 0 && r.piece) {
            // The piece is done: a continuation goes on in this chunk, a fresh one waits for the next.
            r.end();
            const p = await take();
            if (!p) break;
            if (p.fresh) {
              r.waiting = p;
              break;
            }
            await r.begin(p);
            x = await r.pull();
          }
          inputs[i] = r.last;
          if (x < 0) {
            targets[i] = r.last;
            labels[i] = -2;
            continue;
          }
          targets[i] = x;
          r.last = x;
          labels[i] = r.label();
          if (t + 1 > steps) steps = t + 1;
        }
      }
      const finished = () => {
        for (const r of rows) {
          for (const seq of r.finished.splice(0)) {
            src.done?.(seq);
            o.onPieceDone?.(seq);
          }
        }
      };
      if (steps === 0 && exhausted && rows.every((r) => !r.piece && !r.waiting)) {
        finished();
        break;
      }
      if (resets.length) ws.resetRows(resets);
      if (steps > 0) {
        ws.setInputs(inputs, targets);
        ws.forward();
        ws.loss();
        const losses = await w.e.read(ws.losses, 0, steps * S);
        for (let s = 0; s < S; s++) {
          let unit = -2, n = 0, acc = 0;
          for (let t = 0; t < steps; t++) {
            const i = t * S + s, l = labels[i];
            if (l < 0) continue;
            chars++;
            nats += losses[i];
            if (!o.onScore) continue;
            if (l !== unit) {
              if (unit >= 0) o.onScore(unit, n, acc);
              unit = l;
              n = 0;
              acc = 0;
            }
            n++;
            acc += losses[i];
          }
          if (unit >= 0) o.onScore!(unit, n, acc);
        }
        ws.carryState();
      }
      finished();
      o.onChunk?.(chars, rows.reduce((a, r) => a + r.rangeBytes, 0));
      // Engine reads may resolve as microtasks: let timers and signal handlers run.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    ws.dispose();
    await Promise.all(rows.map((r) => r.close()));
  }
  return { chars, nats, seconds: (performance.now() - start) / 1000, partial };
}
