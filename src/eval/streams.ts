// The scoring core: S id streams run side by side as the S rows of one inference batch, the
// hidden state carried from chunk to chunk. Each stream is its burn-in ids followed by its
// segment's ids; a target is scored only once it belongs to the segment, so the burn-in only
// warms the state. Streams end at different times: past its end a row is padded and masked out
// of the sums (the model is causal and rows are independent, so padding changes no score).
import { Weights, Workspace } from '../model/model.js';
import type { IdChunk } from '../text/corpus.js';
import type { IdArray } from '../text/vocab.js';

export interface StreamSpec {
  /** Ids just before the segment: fed, and only the prediction of the segment's first id scored. */
  burn: IdArray;
  /** The segment's ids, with the source bytes each chunk covers (for progress). */
  body: AsyncIterable<IdChunk> | Iterable<IdChunk>;
}

export interface EvalProgress {
  /** Source units consumed (file bytes for a file, ids for an in-memory text), out of `total`. */
  done: number;
  total: number;
  /** Symbols scored so far. */
  chars: number;
}

export interface ScoreOptions {
  seq: number;
  /** The `total` reported with progress. */
  total: number;
  onProgress?: (p: EvalProgress) => void;
  signal?: AbortSignal;
}

export interface StreamScore {
  chars: number;
  nats: number;
  seconds: number;
  /** True when the signal stopped the run: the sums cover only what was scored until then. */
  partial: boolean;
  /** Source units consumed, as in progress. */
  done: number;
}

/** A bar needs a few updates a second, not one per chunk of a fast model. */
const PROGRESS_MS = 200;
const EMPTY = new Uint8Array(0);

class Cursor {
  private readonly it: AsyncIterator<IdChunk> | Iterator<IdChunk>;
  cur: IdArray = EMPTY;
  pos = 0;
  private curBytes = 0;
  /** Bytes of the chunks already used up. */
  private credited = 0;
  private pendingBurn: IdArray | null;
  ended = false;
  /** Targets still to be fed unscored (the burn-in's own predictions). */
  skip: number;
  /** The next input: the last id read. */
  last = 0;

  constructor(spec: StreamSpec) {
    const b = spec.body;
    this.it = Symbol.asyncIterator in b ? (b as AsyncIterable<IdChunk>)[Symbol.asyncIterator]() : (b as Iterable<IdChunk>)[Symbol.iterator]();
    this.pendingBurn = spec.burn.length ? spec.burn : null;
    this.skip = Math.max(0, spec.burn.length - 1);
  }

  /** The next id once the current chunk is used up; -1 at the end of the stream. */
  async pull(): Promise<number> {
    while (this.pos >= this.cur.length) {
      this.credited += this.curBytes;
      this.curBytes = 0;
      if (this.pendingBurn) {
        this.cur = this.pendingBurn;
        this.pendingBurn = null;
      } else {
        const r = this.ended ? { done: true as const, value: undefined } : await this.it.next();
        if (r.done) {
          this.ended = true;
          this.cur = EMPTY;
          this.pos = 0;
          return -1;
        }
        this.cur = r.value.ids;
        this.curBytes = r.value.bytes;
      }
      this.pos = 0;
    }
    return this.cur[this.pos++];
  }

  consumed(): number {
    return this.credited + (this.cur.length ? (this.curBytes * this.pos) / this.cur.length : 0);
  }

  async close(): Promise<void> {
    if (!this.ended) await this.it.return?.();
  }
}

export async function scoreStreams(w: Weights, specs: StreamSpec[], o: ScoreOptions): Promise<StreamScore> {
  const S = specs.length, T = o.seq;
  const start = performance.now();
  const cursors = specs.map((s) => new Cursor(s));
  let chars = 0, nats = 0, partial = false, lastReport = start;
  let ws: Workspace | null = null;
  const consumed = () => {
    let done = 0;
    for (const c of cursors) done += c.consumed();
    return Math.min(o.total, Math.round(done));
  };
  const report = (force: boolean) => {
    if (!o.onProgress) return;
    const now = performance.now();
    if (!force && now - lastReport < PROGRESS_MS) return;
    lastReport = now;
    o.onProgress({ done: consumed(), total: o.total, chars });
  };
  try {
    // A stream's first id is only an input: nothing before it to predict it from.
    for (const c of cursors) {
      const x = await c.pull();
      if (x >= 0) c.last = x;
    }
    if (cursors.every((c) => c.ended)) return { chars: 0, nats: 0, seconds: 0, partial: false, done: o.total };
    ws = new Workspace(w, S, T, false);
    const inputs = new Float32Array(S * T), targets = new Float32Array(S * T);
    const scored = new Uint8Array(S * T);
    report(true);
    for (;;) {
      if (o.signal?.aborted) {
        partial = true;
        break;
      }
      let steps = 0;
      for (let s = 0; s < S; s++) {
        const c = cursors[s];
        for (let t = 0; t < T; t++) {
          const i = t * S + s;
          let x = -1;
          if (!c.ended) x = c.pos < c.cur.length ? c.cur[c.pos++] : await c.pull();
          inputs[i] = c.last;
          if (x < 0) {
            targets[i] = c.last;
            scored[i] = 0;
            continue;
          }
          targets[i] = x;
          c.last = x;
          if (c.skip > 0) {
            c.skip--;
            scored[i] = 0;
          } else {
            scored[i] = 1;
          }
          if (t + 1 > steps) steps = t + 1;
        }
      }
      if (steps === 0) break;
      ws.setInputs(inputs, targets);
      ws.forward();
      ws.loss();
      const losses = await w.e.read(ws.losses, 0, steps * S);
      for (let i = 0; i < steps * S; i++) {
        if (scored[i]) {
          nats += losses[i];
          chars++;
        }
      }
      ws.carryState();
      report(false);
      // Engine reads may resolve as microtasks and file reads are rare, so without this the event
      // loop would not turn for minutes: no timer, no signal handler, no abort from outside.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    // Every estimate of a training run makes its own workspace: engine memory is not collected.
    ws?.dispose();
    await Promise.all(cursors.map((c) => c.close()));
  }
  report(true);
  return { chars, nats, seconds: (performance.now() - start) / 1000, partial, done: consumed() };
}
