// The perplexity table: every checkpoint on every file, each format parses back to the rows, and
// each row is what evaluating that pair on its own gives.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createJsEngine } from '../src/engine/js/js-engine.js';
import { evaluateFile } from '../src/eval/evaluate.js';
import { benchTable, formatTable, TABLE_FORMATS, type BenchModel, type BenchRow } from '../src/eval/table.js';
import { validateConfig } from '../src/model/config.js';
import { Weights } from '../src/model/model.js';
import { initParams, paramLayout } from '../src/model/params.js';
import { Rng } from '../src/rng.js';
import { BYTE_VOCAB, ByteTokenizer, CharTokenizer, Vocab } from '../src/text/index.js';

const dir = mkdtempSync(join(tmpdir(), 'charnn-table-'));
const SHAKES = readFileSync(new URL('../../shared/corpora/tinyshakespeare.txt', import.meta.url), 'utf8');
const e = createJsEngine();
afterAll(() => e.dispose());

function model(vocab: Vocab, seed: number): Weights {
  const config = validateConfig({ cell: 'gru', vocab: vocab.size, embed: 8, hidden: 12, layers: 1 });
  return new Weights(e, config, initParams(config, paramLayout(config), new Rng(seed)));
}

/** RFC 4180, enough for the test: quoted fields with doubled quotes, commas and newlines. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], cell = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; }
    else cell += c;
  }
  return rows;
}

describe('bench table', async () => {
  const a = join(dir, 'a.txt'), b = join(dir, 'b, "quoted".txt');
  writeFileSync(a, SHAKES.slice(0, 2500));
  writeFileSync(b, SHAKES.slice(9000, 10500) + ' 😀 ünknown');
  const vocab = Vocab.fromText(SHAKES.slice(0, 2500));
  const models: BenchModel[] = [
    { checkpoint: 'chars.ckpt', weights: model(vocab, 1), tokenizer: new CharTokenizer(vocab) },
    { checkpoint: 'bytes.ckpt', weights: model(BYTE_VOCAB, 2), tokenizer: new ByteTokenizer() },
  ];
  const opts = { streams: 3, burnIn: 32 };
  const rows = await benchTable(models, [a, b], opts);

  it('has one row per checkpoint and file, each equal to evaluating that pair alone', async () => {
    expect(rows.map((r) => [r.checkpoint, r.file])).toEqual([['chars.ckpt', a], ['chars.ckpt', b], ['bytes.ckpt', a], ['bytes.ckpt', b]]);
    for (const row of rows) {
      const m = models.find((x) => x.checkpoint === row.checkpoint)!;
      const r = await evaluateFile(m.weights, row.file, m.tokenizer, opts);
      expect(row.scored).toBe(r.chars);
      expect(row.unknown).toBe(r.unknown);
      expect(row.nats_per_unit).toBeCloseTo(r.nats / r.chars, 12);
      expect(row.bits_per_unit).toBeCloseTo(r.nats / r.chars / Math.LN2, 12);
      expect(row.perplexity).toBeCloseTo(Math.exp(r.nats / r.chars), 9);
    }
    // Byte models know every byte; the char model skips what its vocabulary lacks.
    expect(rows[1].unknown).toBeGreaterThan(0);
    expect(rows[3]).toMatchObject({ tokenizer: 'bytes', unit: 'byte', unknown: 0, scored: Buffer.byteLength(readFileSync(b)) - 1 });
    expect(rows[0]).toMatchObject({ tokenizer: 'chars', unit: 'char' });
  });

  it('json parses back to the rows', () => {
    expect(JSON.parse(formatTable(rows, 'json'))).toEqual(rows);
  });

  it('csv parses back to the rows at full precision, awkward file names included', () => {
    const [head, ...body] = parseCsv(formatTable(rows, 'csv'));
    expect(body).toHaveLength(rows.length);
    body.forEach((cells, i) => {
      const rec = Object.fromEntries(head.map((h, j) => [h, cells[j]]));
      const r = rows[i];
      expect(rec.file).toBe(r.file);
      for (const k of ['scored', 'unknown', 'nats_per_unit', 'bits_per_unit', 'perplexity', 'units_per_sec'] as (keyof BenchRow)[]) {
        expect(Number(rec[k])).toBe(r[k]);
      }
    });
  });

  it('table and markdown show every row with its unit', () => {
    for (const f of TABLE_FORMATS.filter((x) => x === 'table' || x === 'markdown')) {
      const lines = formatTable(rows, f).trimEnd().split('\n');
      expect(lines).toHaveLength(rows.length + 2);
      rows.forEach((r, i) => expect(lines[i + 2]).toContain(`${r.bits_per_unit.toFixed(4)} per ${r.unit}`));
    }
    const md = formatTable(rows, 'markdown').split('\n');
    // Every markdown row has the header's number of cells (no unescaped pipe in a name).
    const cells = (l: string) => l.replace(/\\\|/g, '').split('|').length;
    for (const l of md.filter(Boolean)) expect(cells(l)).toBe(cells(md[0]));
  });

  it('a text of several files is one row; --dynamic adds its column over the same characters', async () => {
    const both = { label: 'both', docs: [a, b].map((path) => ({ path, bytes: readFileSync(path).length })), oneFile: false, split: 'whole' };
    const [row] = await benchTable([models[0]], [both], { dynamic: { rule: 'sgd', lr: 0, segment: 40 } });
    expect(row).toMatchObject({ file: 'both', files: 2, dynamic_settings: 'sgd, lr 0, decay 0.001, segments of 40' });
    expect(row.dynamic_nats_per_unit).toBe(row.nats_per_unit);
    expect(row.scored).toBe(rows[0].scored + rows[1].scored + 1);
    const md = formatTable([row], 'markdown').split('\n');
    expect(md[0]).toBe('| model | params | text | split | chars | bits/char (static) | bits/char (dynamic) | perplexity (static) |');
    expect(md[2]).toContain('| whole (2 files) |');
  });

  it('stops at an aborted signal, returning the rows done', async () => {
    const ac = new AbortController();
    const done = await benchTable(models, [a, b], { ...opts, signal: ac.signal, onRow: () => ac.abort() });
    expect(done).toHaveLength(1);
  });
});
