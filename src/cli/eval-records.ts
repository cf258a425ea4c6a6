// The records of `eval --per-line` / `--per-doc`: one JSON line each with --json, else rows of a
// table whose columns are sized before the first row (the records stream; nothing waits for the
// last). Writes are gathered into large pieces: a record per system call would cost more than
// scoring a short line.
import type { UnitRecord } from '../eval/unit-ledger.js';
import type { Document } from '../text/documents.js';
import { Coalescer } from './coalesce.js';
import { outColor as c, stdout } from './io.js';

/** Characters of a line shown in the table, and kept in a JSON record's text. */
export const TABLE_TEXT = 60;
export const JSON_TEXT = 200;

export interface RecordLayout {
  unit: 'line' | 'doc';
  docs: Document[];
  /** How to name each document (its path, or "standard input"). */
  name: (doc: number) => string;
  symbol: 'char' | 'byte';
  dynamic: boolean;
  json: boolean;
}

const fixed = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : '—');

export class RecordPrinter {
  private readonly out = new Coalescer((t) => stdout.write(t), 50, 1 << 16);
  private readonly posWidth: number;
  private readonly perLineFiles: boolean;

  constructor(private readonly l: RecordLayout) {
    this.perLineFiles = l.unit === 'line' && l.docs.length > 1;
    const longest = Math.max(4, ...l.docs.map((_, i) => l.name(i).length));
    this.posWidth = l.unit === 'doc' ? longest : this.perLineFiles ? longest + 8 : 8;
  }

  header(): void {
    if (this.l.json) return;
    const u = this.l.symbol;
    const cols = [this.l.unit === 'doc' ? 'file'.padEnd(this.posWidth) : 'line'.padStart(this.posWidth), `${u}s`.padStart(9), 'nats'.padStart(12), `bits/${u}`.padStart(10)];
    if (this.l.dynamic) cols.push(`dynamic`.padStart(10));
    if (this.l.unit === 'line') cols.push('text');
    this.out.write(c.bold(cols.join('  ')) + '\n');
  }

  write(r: UnitRecord): void {
    const bits = r.chars > 0 ? r.nats / r.chars / Math.LN2 : NaN;
    const dyn = r.dynamicNats !== undefined && r.chars > 0 ? r.dynamicNats / r.chars / Math.LN2 : NaN;
    const file = this.l.name(r.doc);
    if (this.l.json) {
      const rec: Record<string, unknown> = { type: this.l.unit, file };
      if (this.l.unit === 'line') rec.line = r.line;
      Object.assign(rec, { chars: r.chars, nats: r.nats, bits_per_char: Number.isFinite(bits) ? bits : null, unknown: r.unknown });
      if (this.l.dynamic) Object.assign(rec, { dynamic_nats: r.dynamicNats, dynamic_bits_per_char: Number.isFinite(dyn) ? dyn : null });
      if (this.l.unit === 'line') rec.text = cut(r.text, JSON_TEXT);
      this.out.write(JSON.stringify(rec) + '\n');
      return;
    }
    const pos = this.l.unit === 'doc' ? file.padEnd(this.posWidth) : (this.perLineFiles ? `${file}:${r.line}` : String(r.line)).padStart(this.posWidth);
    const cols = [pos, r.chars.toLocaleString('en-US').padStart(9), fixed(r.nats, 2).padStart(12), fixed(bits, 4).padStart(10)];
    if (this.l.dynamic) cols.push(fixed(dyn, 4).padStart(10));
    if (this.l.unit === 'line') cols.push(printable(cut(r.text, TABLE_TEXT)));
    this.out.write(cols.join('  ').trimEnd() + '\n');
  }

  flush(): void {
    this.out.flush();
  }
}

function cut(s: string, n: number): string {
  if (s.length <= n) return s;
  const end = /[\ud800-\udbff]/.test(s[n - 1]) ? n - 1 : n;
  return s.slice(0, end) + '…';
}

/** Control characters (a tab, a carriage return) would break the table's line. */
function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]/g, (ch) => (ch === '\t' ? ' ' : '·'));
}
