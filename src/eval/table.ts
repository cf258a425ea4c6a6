// The perplexity table behind `charnn bench CKPT... --on FILE...`: every checkpoint on every file,
// as typed rows, and pure formatters for them. Loading a checkpoint onto an engine is the
// caller's (the CLI owns backend choice); this module only runs and formats.
import type { Weights } from '../model/model.js';
import type { Tokenizer, TokenizerKind } from '../text/tokenizer.js';
import { evaluateFile, type EvalOptions, type EvalResult } from './evaluate.js';

export interface BenchRow {
  checkpoint: string;
  file: string;
  tokenizer: TokenizerKind;
  /** What one symbol is: bits per char for character models, bits per byte for byte models. */
  unit: 'char' | 'byte';
  scored: number;
  unknown: number;
  nats_per_unit: number;
  bits_per_unit: number;
  perplexity: number;
  units_per_sec: number;
}

export interface BenchModel {
  checkpoint: string;
  weights: Weights;
  tokenizer: Tokenizer;
}

export const TABLE_FORMATS = ['table', 'markdown', 'csv', 'json'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

export function benchRow(checkpoint: string, file: string, tok: Tokenizer, r: EvalResult): BenchRow {
  const nats = r.chars > 0 ? r.nats / r.chars : NaN;
  return {
    checkpoint, file, tokenizer: tok.kind, unit: tok.unit, scored: r.chars, unknown: r.unknown,
    nats_per_unit: nats, bits_per_unit: nats / Math.LN2, perplexity: Math.exp(nats), units_per_sec: r.chars / Math.max(1e-9, r.seconds),
  };
}

/**
 * Every model on every file, in order (models outer). `onRow` sees each row as it is done, and
 * `each` gives per-pair options (progress callbacks, a shared abort signal).
 */
export async function benchTable(
  models: BenchModel[],
  files: string[],
  o: EvalOptions & { onRow?: (row: BenchRow) => void; each?: (checkpoint: string, file: string) => EvalOptions } = {},
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const { onRow, each, ...base } = o;
  for (const m of models) {
    for (const file of files) {
      if (base.signal?.aborted) return rows;
      const r = await evaluateFile(m.weights, file, m.tokenizer, { ...base, ...each?.(m.checkpoint, file) });
      if (r.partial) return rows;
      const row = benchRow(m.checkpoint, file, m.tokenizer, r);
      rows.push(row);
      onRow?.(row);
    }
  }
  return rows;
}

const COLUMNS: { key: keyof BenchRow; title: string; show: (r: BenchRow) => string }[] = [
  { key: 'checkpoint', title: 'checkpoint', show: (r) => r.checkpoint },
  { key: 'file', title: 'file', show: (r) => r.file },
  { key: 'tokenizer', title: 'tokenizer', show: (r) => r.tokenizer },
  { key: 'bits_per_unit', title: 'bits/unit', show: (r) => `${r.bits_per_unit.toFixed(4)} per ${r.unit}` },
  { key: 'perplexity', title: 'perplexity', show: (r) => r.perplexity.toFixed(3) },
  { key: 'scored', title: 'scored', show: (r) => r.scored.toLocaleString('en-US') },
  { key: 'unknown', title: 'unknown', show: (r) => r.unknown.toLocaleString('en-US') },
  { key: 'units_per_sec', title: 'units/s', show: (r) => Math.round(r.units_per_sec).toLocaleString('en-US') },
];
const NUMERIC = new Set<keyof BenchRow>(['bits_per_unit', 'perplexity', 'scored', 'unknown', 'units_per_sec']);
/** Machine formats carry every field at full precision. */
const FIELDS: (keyof BenchRow)[] = ['checkpoint', 'file', 'tokenizer', 'unit', 'scored', 'unknown', 'nats_per_unit', 'bits_per_unit', 'perplexity', 'units_per_sec'];

export function formatTable(rows: BenchRow[], format: TableFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(rows, null, 2) + '\n';
    case 'csv':
      return [FIELDS.join(','), ...rows.map((r) => FIELDS.map((f) => csvCell(r[f])).join(','))].join('\n') + '\n';
    case 'markdown': {
      const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
      const head = `| ${COLUMNS.map((c) => c.title).join(' | ')} |`;
      const rule = `|${COLUMNS.map((c) => (NUMERIC.has(c.key) ? '---:' : '---')).join('|')}|`;
      return [head, rule, ...rows.map((r) => `| ${COLUMNS.map((c) => esc(c.show(r))).join(' | ')} |`)].join('\n') + '\n';
    }
    case 'table': {
      const cells = [COLUMNS.map((c) => c.title), ...rows.map((r) => COLUMNS.map((c) => c.show(r)))];
      const width = COLUMNS.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
      const line = (row: string[]) => row.map((s, i) => (NUMERIC.has(COLUMNS[i].key) ? s.padStart(width[i]) : s.padEnd(width[i]))).join('  ').trimEnd();
      return [line(cells[0]), width.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n') + '\n';
    }
  }
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
