// The perplexity table behind `charnn bench CKPT... --on TEXT...`: every checkpoint on every text,
// as typed rows, and pure formatters for them. Loading a checkpoint onto an engine is the
// caller's (the CLI owns backend choice); this module only runs and formats. With dynamic
// evaluation each row has both figures, static and dynamic, over the same characters.
import type { Weights } from '../model/model.js';
import { countParams } from '../model/params.js';
import type { Document } from '../text/documents.js';
import type { Tokenizer, TokenizerKind } from '../text/tokenizer.js';
import { evaluateDynamic, type DynamicRule } from './dynamic.js';
import { evaluateFile, type EvalOptions } from './evaluate.js';
import { evaluateUnits } from './per-unit.js';

export interface BenchRow {
  checkpoint: string;
  /** Trainable parameters of the model. */
  params: number;
  file: string;
  /** The part of the text scored: a catalogue corpus's "test" or "validation" part, or "whole" for files. */
  split: string;
  /** Documents in the text (files of a folder). */
  files: number;
  tokenizer: TokenizerKind;
  /** What one symbol is: bits per char for character models, bits per byte for byte models. */
  unit: 'char' | 'byte';
  scored: number;
  unknown: number;
  nats_per_unit: number;
  bits_per_unit: number;
  perplexity: number;
  units_per_sec: number;
  /** Dynamic evaluation of the same symbols (null without --dynamic); the static figures are then the same exact stream's. */
  dynamic_nats_per_unit: number | null;
  dynamic_bits_per_unit: number | null;
  /** e.g. "rms, lr 0.0003, decay 0.01, segments of 50" (null without --dynamic). */
  dynamic_settings: string | null;
}

export interface BenchModel {
  checkpoint: string;
  weights: Weights;
  tokenizer: Tokenizer;
  /** The id read between documents, or null. */
  separator?: number | null;
  /** The rms rule's mean squared training gradient (absent: the checkpoint has none). */
  meanSquares?: Float32Array;
}

/** A text as a row names it: a file path is one whole file. */
export interface BenchText {
  label: string;
  docs: Document[];
  /** One file named directly: scored by the segmented single-file evaluator. */
  oneFile: boolean;
  split: string;
}

export interface BenchDynamic {
  segment?: number;
  lr?: number;
  decay?: number;
  rule?: DynamicRule;
}

export const TABLE_FORMATS = ['table', 'markdown', 'csv', 'json'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

interface Figures { chars: number; nats: number; seconds: number; unknown: number; partial: boolean; dynamicNats?: number; dynamic?: string }

export function benchRow(m: BenchModel, text: BenchText, r: Figures): BenchRow {
  const nats = r.chars > 0 ? r.nats / r.chars : NaN;
  const dyn = r.dynamicNats === undefined ? null : r.chars > 0 ? r.dynamicNats / r.chars : NaN;
  const tok = m.tokenizer;
  return {
    checkpoint: m.checkpoint, params: countParams(m.weights.layout), file: text.label, split: text.split, files: text.docs.length, tokenizer: tok.kind, unit: tok.unit,
    scored: r.chars, unknown: r.unknown, nats_per_unit: nats, bits_per_unit: nats / Math.LN2, perplexity: Math.exp(nats),
    units_per_sec: r.chars / Math.max(1e-9, r.seconds),
    dynamic_nats_per_unit: dyn, dynamic_bits_per_unit: dyn === null ? null : dyn / Math.LN2, dynamic_settings: r.dynamic ?? null,
  };
}

const asText = (t: string | BenchText): BenchText => (typeof t === 'string' ? { label: t, docs: [{ path: t, bytes: 0 }], oneFile: true, split: 'whole' } : t);

async function score(m: BenchModel, t: BenchText, o: EvalOptions & { dynamic?: BenchDynamic }): Promise<Figures> {
  if (o.dynamic) {
    const r = await evaluateDynamic(m.weights, t.docs, m.tokenizer, {
      ...o.dynamic, meanSquares: m.meanSquares, separator: m.separator ?? null, signal: o.signal, onProgress: o.onProgress,
    });
    const s = r.settings;
    return { ...r, nats: r.staticNats, dynamic: `${s.rule}, lr ${s.lr}, decay ${s.decay}, segments of ${s.segment}` };
  }
  if (t.oneFile) return evaluateFile(m.weights, t.docs[0].path, m.tokenizer, { ...o, range: t.docs[0].range });
  return evaluateUnits(m.weights, t.docs, m.tokenizer, { unit: 'doc', separator: m.separator ?? null, streams: o.streams, burnIn: o.burnIn, seq: o.seq, signal: o.signal, onProgress: o.onProgress });
}

/**
 * Every model on every text, in order (models outer). `onRow` sees each row as it is done, and
 * `each` gives per-pair options (progress callbacks, a shared abort signal).
 */
export async function benchTable(
  models: BenchModel[],
  texts: (string | BenchText)[],
  o: EvalOptions & { dynamic?: BenchDynamic; onRow?: (row: BenchRow) => void; each?: (checkpoint: string, text: string) => EvalOptions } = {},
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const { onRow, each, ...base } = o;
  for (const m of models) {
    for (const text of texts.map(asText)) {
      if (base.signal?.aborted) return rows;
      const r = await score(m, text, { ...base, ...each?.(m.checkpoint, text.label) });
      if (r.partial) return rows;
      const row = benchRow(m, text, r);
      rows.push(row);
      onRow?.(row);
    }
  }
  return rows;
}

interface Column { key: keyof BenchRow; title: string; numeric?: boolean; show: (r: BenchRow) => string }

const int = (x: number) => x.toLocaleString('en-US');
/** Parameters as papers write them: 186K, 3.3M. */
export const compactCount = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(x >= 1e7 ? 0 : 1)}M` : x >= 1e3 ? `${Math.round(x / 1e3)}K` : String(x));
const bits = (x: number | null) => (x === null ? '' : x.toFixed(4));

/** The terminal table: everything, with each figure's unit. */
function terminalColumns(rows: BenchRow[]): Column[] {
  const dynamic = rows.some((r) => r.dynamic_bits_per_unit !== null);
  return [
    { key: 'checkpoint', title: 'checkpoint', show: (r) => r.checkpoint },
    { key: 'params', title: 'params', numeric: true, show: (r) => int(r.params) },
    { key: 'file', title: 'text', show: (r) => r.file },
    { key: 'split', title: 'split', show: (r) => r.split },
    { key: 'tokenizer', title: 'tokenizer', show: (r) => r.tokenizer },
    { key: 'bits_per_unit', title: 'bits/unit', numeric: true, show: (r) => `${r.bits_per_unit.toFixed(4)} per ${r.unit}` },
    ...(dynamic ? [{ key: 'dynamic_bits_per_unit', title: 'dynamic', numeric: true, show: (r: BenchRow) => (r.dynamic_bits_per_unit === null ? '' : `${bits(r.dynamic_bits_per_unit)} per ${r.unit}`) } as Column] : []),
    { key: 'perplexity', title: 'perplexity', numeric: true, show: (r) => r.perplexity.toFixed(3) },
    { key: 'scored', title: 'scored', numeric: true, show: (r) => int(r.scored) },
    { key: 'unknown', title: 'unknown', numeric: true, show: (r) => int(r.unknown) },
    { key: 'units_per_sec', title: 'units/s', numeric: true, show: (r) => int(Math.round(r.units_per_sec)) },
  ];
}

/** The table a paper prints: model, size, text, split, the figures; the unit in the header when all rows share it. */
function paperColumns(rows: BenchRow[]): Column[] {
  const units = new Set(rows.map((r) => r.unit));
  const one = units.size === 1 ? [...units][0] : null;
  const fig = (x: number | null, r: BenchRow) => (x === null ? '' : one ? bits(x) : `${bits(x)} per ${r.unit}`);
  const dynamic = rows.some((r) => r.dynamic_bits_per_unit !== null);
  const head = one ? `bits/${one}` : 'bits/symbol';
  return [
    { key: 'checkpoint', title: 'model', show: (r) => r.checkpoint },
    { key: 'params', title: 'params', numeric: true, show: (r) => compactCount(r.params) },
    { key: 'file', title: 'text', show: (r) => r.file },
    { key: 'split', title: 'split', show: (r) => (r.files > 1 ? `${r.split} (${int(r.files)} files)` : r.split) },
    { key: 'scored', title: one ? `${one}s` : 'symbols', numeric: true, show: (r) => int(r.scored) },
    { key: 'bits_per_unit', title: dynamic ? `${head} (static)` : head, numeric: true, show: (r) => fig(r.bits_per_unit, r) },
    ...(dynamic ? [{ key: 'dynamic_bits_per_unit', title: `${head} (dynamic)`, numeric: true, show: (r: BenchRow) => fig(r.dynamic_bits_per_unit, r) } as Column] : []),
    { key: 'perplexity', title: dynamic ? 'perplexity (static)' : 'perplexity', numeric: true, show: (r) => r.perplexity.toFixed(3) },
  ];
}

/** Machine formats carry every field at full precision. */
const FIELDS: (keyof BenchRow)[] = [
  'checkpoint', 'params', 'file', 'split', 'files', 'tokenizer', 'unit', 'scored', 'unknown', 'nats_per_unit', 'bits_per_unit', 'perplexity', 'units_per_sec',
  'dynamic_nats_per_unit', 'dynamic_bits_per_unit', 'dynamic_settings',
];

export function formatTable(rows: BenchRow[], format: TableFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(rows, null, 2) + '\n';
    case 'csv':
      return [FIELDS.join(','), ...rows.map((r) => FIELDS.map((f) => csvCell(r[f])).join(','))].join('\n') + '\n';
    case 'markdown': {
      const cols = paperColumns(rows);
      const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
      const head = `| ${cols.map((c) => c.title).join(' | ')} |`;
      const rule = `|${cols.map((c) => (c.numeric ? '---:' : '---')).join('|')}|`;
      const dyn = rows.find((r) => r.dynamic_settings)?.dynamic_settings;
      const note = dyn ? `\nDynamic evaluation (Krause et al., 2018): ${dyn}; static and dynamic score the same characters as one stream.\n` : '';
      return [head, rule, ...rows.map((r) => `| ${cols.map((c) => esc(c.show(r))).join(' | ')} |`)].join('\n') + '\n' + note;
    }
    case 'table': {
      const cols = terminalColumns(rows);
      const cells = [cols.map((c) => c.title), ...rows.map((r) => cols.map((c) => c.show(r)))];
      const width = cols.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
      const line = (row: string[]) => row.map((s, i) => (cols[i].numeric ? s.padStart(width[i]) : s.padEnd(width[i]))).join('  ').trimEnd();
      return [line(cells[0]), width.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n') + '\n';
    }
  }
}

function csvCell(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
