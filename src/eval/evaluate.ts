// Perplexity evaluation, exact and fast. The text is cut into S contiguous segments scored side
// by side as one batch; every segment after the first starts from the state reached by feeding
// the `burnIn` symbols just before it (fed, not scored), and segment 0 starts from the zero state
// exactly as one stream over the whole text does. Every symbol but the text's first is scored
// exactly once, so S = 1 is the exact single-stream figure and S > 1 differs from it only by
// what the state would have remembered from beyond the burn-in.
import { UserError } from '../errors.js';
import type { Weights } from '../model/model.js';
import { readIdRange, type EncodeStats, type IdChunk } from '../text/corpus.js';
import type { Tokenizer } from '../text/tokenizer.js';
import { charStartAtOrAfter, checkTextFile } from '../text/utf8.js';
import type { IdArray } from '../text/vocab.js';
import { scoreStreams, type EvalProgress, type StreamScore, type StreamSpec } from './streams.js';

export type { EvalProgress } from './streams.js';

/**
 * Defaults by measurement (busy 2-core machine, simd backend), an LSTM 2×128 trained 300 steps
 * (`charnn train tinyshakespeare.txt --model lstm --layers 2 --hidden 128 --steps 300`), scored on
 * its 111,540-character validation split; one stream gives 3.09386809 bits/char at 491 chars/s:
 *   streams×burn-in   256×8  256×32  256×64  217×128  108×256  128×128
 *   Δ bits/char       7.1e-4 5.8e-6  1.6e-5  1.9e-8   2.2e-10  5.1e-8
 *   chars/s           6,617  5,788   6,768   8,187    5,290    9,235
 * The whole file (1,115,394 chars, machine then quiet): one stream 3.0835464939 bits/char at
 * 23,888 chars/s; the defaults (128×128) 3.0835464939, Δ 3.5e-11, at 110,889 chars/s.
 * A burn-in of 128 is already exact to 1e-7 here; 128 streams were as fast as more (speeds are
 * noisy on this machine) with half the open files.
 */
export const DEFAULT_STREAMS = 128;
export const DEFAULT_BURN_IN = 128;
/**
 * Positions per chunk (streams × seq) when `seq` is not given: enough to keep the matrix products
 * efficient, few enough that activations stay small. Memory is bounded by this, not the file.
 */
export const CHUNK_POSITIONS = 4096;

export interface EvalOptions {
  /** Most segments side by side; fewer for a short text (each segment ≥ 4 burn-ins long). 1 = exact single stream. */
  streams?: number;
  /** Symbols fed before each segment after the first to warm its state; ≥ 1. */
  burnIn?: number;
  /** Symbols per chunk and stream (speed and memory only; the result does not depend on it). Default: CHUNK_POSITIONS / streams, within 16..256. */
  seq?: number;
  /** Called a few times a second, and once at the start and the end. */
  onProgress?: (p: EvalProgress) => void;
  /** Aborting stops after the current chunk with a partial result. */
  signal?: AbortSignal;
  /** Only this byte range of a file [start, end), both at character starts; segment 0 starts it from the zero state. */
  range?: [number, number];
}

export interface Segmentation {
  /** Segments actually used. */
  streams: number;
  burnIn: number;
  /** Symbols per segment, roughly (extrapolated from the part read when the run was stopped). */
  unitsPerSegment: number;
}

export interface EvalResult {
  /** Symbols scored (characters, or bytes for a byte model). */
  chars: number;
  /** Total loss in nats. */
  nats: number;
  seconds: number;
  /** Symbols in the text that were skipped as unknown (never for bytes). */
  unknown: number;
  unknownChars: Map<number, number>;
  /** Symbols read from the file (known and unknown); for ids, their count. */
  total: number;
  /** True when stopped by the signal; the figures are over the symbols scored until then. */
  partial: boolean;
  segmentation: Segmentation;
}

interface Resolved { streams: number; burnIn: number; seq?: number }

function resolve(o: EvalOptions): Resolved {
  const streams = o.streams ?? DEFAULT_STREAMS, burnIn = o.burnIn ?? DEFAULT_BURN_IN;
  const seq = o.seq;
  if (!Number.isInteger(streams) || streams < 1) throw new UserError(`--streams must be a whole number ≥ 1 (got ${streams})`);
  if (!Number.isInteger(burnIn) || burnIn < 1) throw new UserError(`--burn-in must be a whole number ≥ 1 (got ${burnIn})`);
  if (seq !== undefined && (!Number.isInteger(seq) || seq < 1)) throw new UserError(`--seq must be a whole number ≥ 1 (got ${seq})`);
  return { streams, burnIn, seq };
}

/** Symbols per chunk for S streams actually used. */
function chunkSeq(p: Resolved, S: number): number {
  return p.seq ?? Math.max(16, Math.min(256, Math.round(CHUNK_POSITIONS / S)));
}

/** Segments for a text of `units`: a burn-in may cost at most a quarter of a segment. */
export function planStreams(units: number, streams: number, burnIn: number): number {
  return Math.max(1, Math.min(streams, Math.floor(units / Math.max(16, 4 * burnIn))));
}

/** One line for a report, e.g. "128 segments of ~8,714 chars side by side, each after the first warmed up on the 128 chars before it (fed, not scored)". */
export function describeSegmentation(s: Segmentation, unit: 'char' | 'byte' = 'char'): string {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  if (s.streams === 1) return `one stream over the whole text (exact)`;
  return `${s.streams} segments of ~${n(s.unitsPerSegment)} ${unit}s side by side, each after the first warmed up on the ${n(s.burnIn)} ${unit}s before it (fed, not scored)`;
}

function result(r: StreamScore, p: Resolved, S: number, stats: EncodeStats, total: number): EvalResult {
  return {
    chars: r.chars, nats: r.nats, seconds: r.seconds, partial: r.partial,
    unknown: stats.unknown, unknownChars: stats.unknownChars, total: stats.chars,
    segmentation: { streams: S, burnIn: p.burnIn, unitsPerSegment: (r.partial && r.done > 0 ? (r.chars * total) / r.done : r.chars) / S },
  };
}

/** Evaluates an in-memory text (train's validation). Progress counts ids. */
export async function evaluateIds(w: Weights, ids: IdArray, o: EvalOptions = {}): Promise<EvalResult> {
  const p = resolve(o), N = ids.length;
  const S = planStreams(N, p.streams, p.burnIn);
  const at = (s: number) => Math.floor((s * N) / S);
  const specs: StreamSpec[] = Array.from({ length: S }, (_, s) => {
    const a = at(s), b = at(s + 1);
    return { burn: ids.subarray(Math.max(0, a - p.burnIn), a), body: [{ ids: ids.subarray(a, b), bytes: b - a }] };
  });
  const r = await scoreStreams(w, specs, { seq: chunkSeq(p, S), total: N, onProgress: o.onProgress, signal: o.signal });
  return result(r, p, S, { chars: N, unknown: 0, unknownChars: new Map() }, N);
}

/**
 * An estimate over `chars` ids drawn from the whole text rather than its start: `streams` windows
 * spaced evenly from beginning to end, each warmed up on the ids just before it (the first starts
 * from the zero state). The whole text when it is not longer than `chars`. Training's periodic
 * validation uses it: the start of a split can be easier or harder than the rest.
 */
export async function estimateIds(w: Weights, ids: IdArray, o: EvalOptions & { chars: number }): Promise<EvalResult> {
  const N = ids.length;
  if (o.chars >= N) return evaluateIds(w, ids, o);
  const p = resolve(o);
  const S = Math.max(1, Math.min(p.streams, Math.floor(o.chars / 2)));
  const L = Math.floor(o.chars / S);
  const specs: StreamSpec[] = Array.from({ length: S }, (_, s) => {
    const a = S === 1 ? 0 : Math.floor((s * (N - L)) / (S - 1));
    return { burn: ids.subarray(Math.max(0, a - p.burnIn), a), body: [{ ids: ids.subarray(a, a + L), bytes: L }] };
  });
  const r = await scoreStreams(w, specs, { seq: chunkSeq(p, S), total: S * L, onProgress: o.onProgress, signal: o.signal });
  return result(r, p, S, { chars: S * L, unknown: 0, unknownChars: new Map() }, S * L);
}

/**
 * Evaluates a file streamed from disk: S byte ranges (boundaries moved to character starts for a
 * character model), each read by its own stream, so memory is bounded by S·seq whatever the file
 * size. Progress counts file bytes. Unknown characters are skipped and counted.
 */
export async function evaluateFile(w: Weights, path: string, tok: Tokenizer, o: EvalOptions = {}): Promise<EvalResult> {
  const p = resolve(o);
  const fileSize = await checkTextFile(path);
  const [lo, hi] = o.range ?? [0, fileSize];
  if (!(Number.isSafeInteger(lo) && Number.isSafeInteger(hi) && lo >= 0 && lo < hi && hi <= fileSize)) {
    throw new UserError(`${path}: byte range [${lo}, ${hi}) is not inside the file's ${fileSize} bytes`);
  }
  const size = hi - lo;
  const S = planStreams(size, p.streams, p.burnIn);
  const bounds: number[] = [lo];
  for (let s = 1; s < S; s++) {
    const x = lo + Math.floor((s * size) / S);
    bounds.push(tok.kind === 'bytes' ? x : await charStartAtOrAfter(path, x));
  }
  bounds.push(hi);
  // Read buffers of all streams together stay near 4 MB, however many streams there are.
  const chunkBytes = Math.max(4096, Math.min(1 << 16, Math.floor((1 << 22) / S)));
  const stats: EncodeStats[] = [];
  const specs: StreamSpec[] = [];
  for (let s = 0; s < S; s++) {
    const st: EncodeStats = { chars: 0, unknown: 0, unknownChars: new Map() };
    stats.push(st);
    const burn = s === 0 ? new Uint8Array(0) : await burnIn(path, tok, bounds[s], p.burnIn);
    specs.push({ burn, body: readIdRange(path, tok, { start: bounds[s], end: bounds[s + 1], stats: st, chunkBytes }) });
  }
  const r = await scoreStreams(w, specs, { seq: chunkSeq(p, S), total: size, onProgress: o.onProgress, signal: o.signal });
  const all: EncodeStats = { chars: 0, unknown: 0, unknownChars: new Map() };
  for (const st of stats) {
    all.chars += st.chars;
    all.unknown += st.unknown;
    for (const [cp, k] of st.unknownChars) all.unknownChars.set(cp, (all.unknownChars.get(cp) ?? 0) + k);
  }
  if (!r.partial) {
    if (all.chars === 0) throw new UserError(`${path} is empty`);
    if (all.unknown === all.chars) throw new UserError(`${path} has no character of the model's vocabulary`);
    if (r.chars === 0) throw new UserError(`${path} has fewer than 2 characters the model knows; nothing to score`);
  }
  return result(r, p, S, all, size);
}

/**
 * The last `n` known symbols before byte `end` (a character start). Unknown characters in the
 * window are skipped like everywhere else, so the window grows until it holds n known ones.
 */
async function burnIn(path: string, tok: Tokenizer, end: number, n: number): Promise<IdArray> {
  for (let span = 4 * n + 16; ; span *= 4) {
    const from = Math.max(0, end - span);
    const start = from === 0 || tok.kind === 'bytes' ? from : await charStartAtOrAfter(path, from);
    const got: number[] = [];
    // A throwaway tally: these characters belong to the previous segment, which counts them.
    const tally: EncodeStats = { chars: 0, unknown: 0, unknownChars: new Map() };
    for await (const c of readIdRange(path, tok, { start, end, stats: tally }) as AsyncIterable<IdChunk>) {
      for (let i = 0; i < c.ids.length; i++) got.push(c.ids[i]);
    }
    if (got.length >= n || from === 0) {
      const ids = tok.vocab.allocIds(Math.min(n, got.length));
      ids.set(got.slice(got.length - ids.length));
      return ids;
    }
  }
}
