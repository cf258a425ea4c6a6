// Scoring a text given as documents (files, folders, standard input), with a record per line or per
// document when asked: in context (each unit after the text before it, as one stream reads it) or
// each unit from a fresh state (independent records: log lines, names, sentences). Everything is
// streamed: memory holds the pieces in flight and the records of units still being scored.
import { UserError } from '../errors.js';
import type { Weights } from '../model/model.js';
import type { EncodeStats } from '../text/corpus.js';
import { totalBytes, type Document } from '../text/documents.js';
import type { Tokenizer } from '../text/tokenizer.js';
import { scanUnits, type UnitKind } from '../text/units.js';
import { CHUNK_POSITIONS, DEFAULT_BURN_IN, DEFAULT_STREAMS } from './evaluate.js';
import { DocPieces, InContextPieces, LinePieces } from './pieces.js';
import { scoreRows } from './rows.js';
import type { EvalProgress } from './streams.js';
import { UnitLedger, type UnitRecord } from './unit-ledger.js';

export type { UnitRecord } from './unit-ledger.js';

/**
 * Lines side by side when each is scored from a fresh state, and steps per chunk. A line starts at
 * a chunk boundary, so a row idles from a line's end to the next boundary: short chunks waste
 * little on short lines. Measured on tinyshakespeare's 40,000 lines (see docs/perplexity.md).
 */
export const RESET_LINE_ROWS = 512;
export const RESET_LINE_SEQ = 8;
/** Lines longer than this are not held but read again from their file by the row that scores them. */
export const HOLD_LINE_IDS = 1 << 14;

export interface UnitEvalOptions {
  /** What a record is: a line or a document. Without onRecord it only shapes the reading. */
  unit: UnitKind;
  /** Score each unit from the zero state instead of after the text before it. */
  resetEach?: boolean;
  /** Rows side by side (in context: pieces; 1 = one exact stream). */
  streams?: number;
  burnIn?: number;
  seq?: number;
  /** The id fed between documents (in context), or null. */
  separator: number | null;
  /** Characters of each unit kept in a record's text. */
  previewChars?: number;
  /** --reset-each: lines longer than this are read again from their file, not held (default HOLD_LINE_IDS). */
  holdIds?: number;
  onRecord?: (r: UnitRecord) => void;
  onProgress?: (p: EvalProgress) => void;
  signal?: AbortSignal;
}

export interface UnitEvalResult {
  chars: number;
  nats: number;
  seconds: number;
  /** Symbols read (known and unknown). */
  total: number;
  unknown: number;
  unknownChars: Map<number, number>;
  partial: boolean;
  /** Records handed out. */
  units: number;
  /** Rows side by side. */
  rows: number;
  /** How the text was cut, in words. */
  segmentation: string;
}

const n = (x: number) => Math.round(x).toLocaleString('en-US');

export async function evaluateUnits(w: Weights, docs: Document[], tok: Tokenizer, o: UnitEvalOptions): Promise<UnitEvalResult> {
  const stats: EncodeStats = { chars: 0, unknown: 0, unknownChars: new Map() };
  const ledger = o.onRecord ? new UnitLedger(o.onRecord) : undefined;
  const u = tok.unit;
  const size = totalBytes(docs);
  let rows: number, seq: number, source: InContextPieces | LinePieces | DocPieces, segmentation: string;
  if (!o.resetEach) {
    const B = o.burnIn ?? DEFAULT_BURN_IN;
    rows = o.streams ?? DEFAULT_STREAMS;
    seq = o.seq ?? Math.max(16, Math.min(256, Math.round(CHUNK_POSITIONS / rows)));
    // Pieces of at most 32 burn-ins (the burn-in costs 3%), fewer symbols for a short text so
    // that every row has work; a burn-in plus a piece fills whole chunks.
    const want = Math.max(4 * B, Math.min(32 * B, Math.ceil(size / rows)));
    const length = Math.ceil((want + B) / seq) * seq - B;
    const scan = scanUnits(docs, tok, { unit: o.unit, separator: o.separator, stats, previewChars: o.previewChars });
    source = new InContextPieces(scan, tok, { length, burnIn: B, continuing: rows === 1, ledger });
    segmentation = rows === 1 ? 'one stream over the whole text (exact)'
      : `pieces of ${n(length)} ${u}s, ${rows} side by side, each after the first warmed up on the ${n(B)} ${u}s before it (fed, not scored)`;
  } else if (o.unit === 'line') {
    rows = o.streams ?? RESET_LINE_ROWS;
    seq = o.seq ?? RESET_LINE_SEQ;
    const scan = scanUnits(docs, tok, { unit: 'line', separator: null, stats, previewChars: o.previewChars });
    source = new LinePieces(scan, tok, docs, { holdIds: o.holdIds ?? HOLD_LINE_IDS, ledger });
    segmentation = `each line from a fresh state, ${rows} side by side`;
  } else {
    rows = Math.min(o.streams ?? DEFAULT_STREAMS, docs.length);
    seq = o.seq ?? Math.max(16, Math.min(256, Math.round(CHUNK_POSITIONS / rows)));
    source = new DocPieces(docs, stats, ledger);
    segmentation = `each document from a fresh state, ${rows} side by side`;
  }
  let lastReport = 0;
  const progress = (force: boolean, chars: number, rangeBytes: number) => {
    if (!o.onProgress) return;
    const now = performance.now();
    if (!force && now - lastReport < 200) return;
    lastReport = now;
    const done = source instanceof DocPieces ? rangeBytes : source.bytes;
    o.onProgress({ done: Math.min(size, done), total: size, chars });
  };
  progress(true, 0, 0);
  let r;
  try {
    r = await scoreRows(w, source, {
      rows, seq, tok, signal: o.signal,
      onScore: ledger ? (unit, c, nats) => ledger.score(unit, c, nats) : undefined,
      onPieceDone: ledger ? (s) => ledger.pieceDone(s) : undefined,
      onChunk: (chars, rangeBytes) => progress(false, chars, rangeBytes),
    });
  } finally {
    await source.close();
  }
  progress(true, r.chars, size);
  if (!r.partial) {
    const what = docs.length === 1 ? docs[0].path : `the ${docs.length} files`;
    if (stats.chars === 0) throw new UserError(`${what}: nothing to score (empty)`);
    if (stats.unknown === stats.chars) throw new UserError(`${what}: no character of the model's vocabulary`);
  }
  return {
    chars: r.chars, nats: r.nats, seconds: r.seconds, total: stats.chars, unknown: stats.unknown, unknownChars: stats.unknownChars,
    partial: r.partial, units: ledger?.emitted ?? 0, rows, segmentation,
  };
}
