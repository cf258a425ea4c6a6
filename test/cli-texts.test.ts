// Texts as a user gives them, through the real bin: standard input, folders of files, records per
// line and per document, and dynamic evaluation's own column.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../src/model/store.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = path.join(root, 'bin', 'charnn.js');
const dir = mkdtempSync(path.join(tmpdir(), 'charnn-texts-'));
const tmp = path.join(dir, 'tmp');
const SHAKES = readFileSync(path.join(root, '..', 'shared', 'corpora', 'tinyshakespeare.txt'), 'utf8');
const corpus = path.join(dir, 'corpus.txt');
const ckpt = path.join(dir, 'model.ckpt');
const small = ['--layers', '1', '--hidden', '16', '--embed', '8', '--batch', '4', '--seq', '16', '--eval-every', '10', '--backend', 'cpu', '--threads', '1'];

function charnn(args: string[], o: { input?: string | Buffer } = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000, input: o.input, env: { ...process.env, TMPDIR: tmp } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const last = (out: string) => JSON.parse(out.trim().split('\n').pop()!);
const lines = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l));
const copies = (d: string) => readdirSync(d).filter((f) => f.startsWith('.stdin.txt.tmp'));

beforeAll(() => {
  if (!existsSync(path.join(root, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first (npm test does)');
  mkdirSync(tmp);
  writeFileSync(corpus, SHAKES.slice(0, 6000));
  const r = charnn(['train', corpus, ...small, '--steps', '30', '--out', ckpt, '--json']);
  if (r.code !== 0) throw new Error(r.err);
});

describe('standard input', () => {
  it('eval and bench of - give the figures of the same text as a file, and leave no copy behind', () => {
    const text = SHAKES.slice(20000, 24000);
    const file = path.join(dir, 'some.txt');
    writeFileSync(file, text);
    const a = last(charnn(['eval', ckpt, file, '--json']).out), b = last(charnn(['eval', ckpt, '-', '--json'], { input: text }).out);
    expect(b.file).toBe('standard input');
    expect([b.chars, b.nats_per_char, b.streams]).toEqual([a.chars, a.nats_per_char, a.streams]);
    const pa = lines(charnn(['eval', ckpt, file, '--per-line', '--json']).out), pb = lines(charnn(['eval', ckpt, '-', '--per-line', '--json'], { input: text }).out);
    expect(pb.map((r) => [r.line, r.nats])).toEqual(pa.map((r) => [r.line, r.nats]));
    const ta = JSON.parse(charnn(['bench', ckpt, '--on', file, '--format', 'json']).out)[0];
    const tb = JSON.parse(charnn(['bench', ckpt, '--on', '-', '--format', 'json'], { input: text }).out)[0];
    expect(tb.nats_per_unit).toBe(ta.nats_per_unit);
    expect(copies(tmp)).toEqual([]);
    const twice = charnn(['eval', ckpt, '-', '-'], { input: text });
    expect(twice.code).toBe(1);
    expect(twice.err).toMatch(/standard input \(-\) can be read only once/);
    const empty = charnn(['eval', ckpt, '-'], { input: '' });
    expect(empty.err.trim()).toMatch(/^error: standard input is empty/);
  });

  it('train from - gives the same weights as from the file; the copy beside the output is gone after success and failure', async () => {
    const out = path.join(dir, 'piped');
    const a = charnn(['train', corpus, ...small, '--steps', '12', '--out', path.join(out, 'file.ckpt'), '--json']);
    const b = charnn(['train', '-', ...small, '--steps', '12', '--out', path.join(out, 'stdin.ckpt'), '--json'], { input: readFileSync(corpus) });
    expect([a.code, b.code], a.err + b.err).toEqual([0, 0]);
    const [fa, fb] = [await loadModel(path.join(out, 'file.ckpt')), await loadModel(path.join(out, 'stdin.ckpt'))];
    expect(Buffer.from(fb.params.buffer).equals(Buffer.from(fa.params.buffer))).toBe(true);
    expect(fb.training.corpus).toBe('-');
    expect(copies(out)).toEqual([]);
    // A text too short to train on: an error after the copy was made, and the copy is gone.
    const short = charnn(['train', '-', ...small, '--steps', '5', '--out', path.join(out, 'short.ckpt')], { input: 'tiny' });
    expect(short.code).toBe(1);
    expect(copies(out)).toEqual([]);
  });

  it('Ctrl-C while standard input is still being read removes the copy', async () => {
    const out = path.join(dir, 'interrupted');
    mkdirSync(out);
    const child = spawn(process.execPath, [bin, 'train', '-', ...small, '--out', path.join(out, 'm.ckpt')], { cwd: dir });
    child.stdin.write(SHAKES.slice(0, 5000));
    for (let i = 0; i < 200 && copies(out).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(copies(out)).toHaveLength(1);
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGINT');
    });
    expect(code).toBe(130);
    expect(copies(out)).toEqual([]);
  });

  it('sample --prime-file - reads the prime from standard input', () => {
    const a = charnn(['sample', ckpt, '--prime', 'ROMEO:', '--length', '40', '--seed', '3']);
    const b = charnn(['sample', ckpt, '--prime-file', '-', '--length', '40', '--seed', '3'], { input: 'ROMEO:' });
    expect(b.code, b.err).toBe(0);
    expect(b.out).toBe(a.out);
  });
});

describe('folders', () => {
  const folder = path.join(dir, 'plays');
  const parts = [SHAKES.slice(0, 3000), SHAKES.slice(3000, 5500), SHAKES.slice(5500, 9000), SHAKES.slice(9000, 10000)];
  beforeAll(() => {
    mkdirSync(path.join(folder, 'act2'), { recursive: true });
    writeFileSync(path.join(folder, 'a.txt'), parts[0]);
    writeFileSync(path.join(folder, 'b.txt'), parts[1]);
    writeFileSync(path.join(folder, 'act2', 'c.txt'), parts[2]);
    writeFileSync(path.join(folder, 'act2', 'd.txt'), parts[3]);
    writeFileSync(path.join(folder, 'cover.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46]));
  });

  it('train FOLDER: the binary file is skipped and named, whole files validate, the checkpoint records the files and characters', () => {
    const out = path.join(dir, 'plays.ckpt');
    const r = charnn(['train', folder, ...small, '--steps', '20', '--val-frac', '0.1', '--out', out, '--json']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`skipping ${path.join(folder, 'cover.jpg')}: not text (NUL byte at offset 4)`);
    const info = JSON.parse(charnn(['info', out, '--json']).out);
    // Name order, folder by folder: a.txt, act2/c.txt, act2/d.txt, b.txt; the last (2,500 chars, 25%) is nearest 10%... of whole files.
    expect(info).toMatchObject({ documents: 4, corpus_chars: 10000, corpus: folder });
    expect(info.split).toBe('the last 1 of 4 files validate (2,500 of 10,000 characters), whole files only');
    const text = charnn(['info', out]).out;
    expect(text).toMatch(/text +4 files, 10,000 characters/);
    // The separator is in the vocabulary; eval of the folder feeds it between files.
    const m = last(charnn(['eval', out, folder, '--json']).out);
    expect(m).toMatchObject({ files: 4, chars: 9999 });
  });

  it('eval FOLDER --per-doc: a record per file in order; with --reset-each each equals that file scored alone', () => {
    const recs = lines(charnn(['eval', ckpt, folder, '--per-doc', '--json']).out);
    const docs = recs.filter((r) => r.type === 'doc');
    expect(docs.map((r) => path.relative(folder, r.file))).toEqual(['a.txt', path.join('act2', 'c.txt'), path.join('act2', 'd.txt'), 'b.txt']);
    const total = recs.at(-1);
    expect(total).toMatchObject({ type: 'eval', files: 4 });
    expect(Math.abs(docs.reduce((a, r) => a + r.nats, 0) / (total.nats_per_char * total.chars) - 1)).toBeLessThan(1e-6);
    const fresh = lines(charnn(['eval', ckpt, folder, '--per-doc', '--reset-each', '--json']).out).filter((r) => r.type === 'doc');
    for (const r of fresh) {
      const alone = last(charnn(['eval', ckpt, r.file, '--streams', '1', '--json']).out);
      expect(r.chars).toBe(alone.chars);
      expect(Math.abs(r.nats / r.chars - alone.nats_per_char)).toBeLessThan(1e-9);
    }
  });

  it('a folder with no text file, or an empty one, is a one-line error', () => {
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    writeFileSync(path.join(empty, 'x.bin'), Buffer.from([1, 0, 2]));
    for (const args of [['eval', ckpt, empty], ['train', empty, ...small, '--steps', '2'], ['bench', ckpt, '--on', empty]]) {
      const r = charnn(args);
      expect(r.code).toBe(1);
      const errs = r.err.trim().split('\n').filter((l) => !l.startsWith('warning: skipping'));
      expect(errs).toEqual([`error: ${empty} holds no text file (skipped 1 that is not text); give a folder of UTF-8 text files`]);
    }
  });
});

describe('records per line', () => {
  const text = SHAKES.slice(40000, 46000);
  const file = path.join(dir, 'lines.txt');
  beforeAll(() => writeFileSync(file, text));

  it('in context they sum to the whole-file score (1e-6 relative), one per line, then the total', () => {
    const whole = last(charnn(['eval', ckpt, file, '--json']).out);
    const recs = lines(charnn(['eval', ckpt, file, '--per-line', '--json']).out);
    const per = recs.filter((r) => r.type === 'line');
    expect(per).toHaveLength(text.split(/(?<=\n)/).length);
    expect(per.slice(0, 3).map((r) => r.text)).toEqual(text.split('\n').slice(0, 3));
    expect(per.reduce((a, r) => a + r.chars, 0)).toBe(whole.chars);
    expect(Math.abs(per.reduce((a, r) => a + r.nats, 0) / (whole.nats_per_char * whole.chars) - 1)).toBeLessThan(1e-6);
    expect(recs.at(-1).type).toBe('eval');
  });

  it('--reset-each equals scoring each line as its own file', () => {
    const per = lines(charnn(['eval', ckpt, file, '--per-line', '--reset-each', '--json']).out).filter((r) => r.type === 'line');
    const own = path.join(dir, 'one-line.txt');
    for (const i of [0, 1, 7, 30]) {
      const line = text.split(/(?<=\n)/)[i];
      writeFileSync(own, line);
      const alone = last(charnn(['eval', ckpt, own, '--json']).out);
      expect([per[i].line, per[i].chars]).toEqual([i + 1, alone.chars]);
      expect(Math.abs(per[i].nats / alone.chars - alone.nats_per_char)).toBeLessThan(1e-9);
    }
  });

  it('the table: a header, a row per line with its text, then the total', () => {
    const out = charnn(['eval', ckpt, file, '--per-line']).out.split('\n');
    expect(out[0]).toMatch(/^ +line +chars +nats +bits\/char +text$/);
    expect(out[1]).toMatch(new RegExp(`^ +1 +\\d+ +[\\d.]+ +[\\d.]+ +${text.split('\n')[0].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    expect(out.find((l) => l.startsWith(`${file}:`))).toMatch(/chars scored/);
  });
});

describe('dynamic evaluation', () => {
  const file = path.join(dir, 'dyn.txt');
  beforeAll(() => writeFileSync(file, SHAKES.slice(60000, 63000)));

  it('is its own column beside the static one; a learning rate of 0 is the static figure bit for bit', () => {
    const stat = last(charnn(['eval', ckpt, file, '--streams', '1', '--seq', '40', '--json']).out);
    const zero = last(charnn(['eval', ckpt, file, '--dynamic', '--dynamic-lr', '0', '--dynamic-seq', '40', '--json']).out);
    expect(zero.nats_per_char).toBe(stat.nats_per_char);
    expect(zero.dynamic_nats_per_char).toBe(stat.nats_per_char);
    const dyn = last(charnn(['eval', ckpt, file, '--dynamic', '--dynamic-rule', 'sgd', '--dynamic-lr', '0.1', '--dynamic-seq', '40', '--json']).out);
    expect(dyn.nats_per_char).toBe(stat.nats_per_char);
    expect(dyn.dynamic_nats_per_char).not.toBe(stat.nats_per_char);
    expect(dyn).toMatchObject({ dynamic_rule: 'sgd', dynamic_lr: 0.1, dynamic_seq: 40 });
    // Records per line carry both figures, and add up to the totals.
    const recs = lines(charnn(['eval', ckpt, file, '--per-line', '--dynamic', '--dynamic-rule', 'sgd', '--dynamic-lr', '0.1', '--dynamic-seq', '40', '--json']).out);
    const per = recs.filter((r) => r.type === 'line'), tot = recs.at(-1);
    expect(per.length).toBeGreaterThan(50);
    expect(Math.abs(per.reduce((a, r) => a + r.dynamic_nats, 0) / (tot.dynamic_nats_per_char * tot.chars) - 1)).toBeLessThan(1e-9);
    expect(Math.abs(per.reduce((a, r) => a + r.nats, 0) / (tot.nats_per_char * tot.chars) - 1)).toBeLessThan(1e-9);
    const shown = charnn(['eval', ckpt, file, '--dynamic']).out;
    expect(shown).toMatch(/static +dynamic\n +nats\/char +\d\.\d{4} +\d\.\d{4}\n +bits\/char +\d\.\d{4} +\d\.\d{4}\n/);
  });

  it('bench --dynamic: both columns; markdown is a paper\'s table with parameters and the split', () => {
    const md = charnn(['bench', 'model.ckpt', '--on', 'dyn.txt', '--dynamic', '--format', 'markdown']).out.trim().split('\n');
    expect(md[0]).toBe('| model | params | text | split | chars | bits/char (static) | bits/char (dynamic) | perplexity (static) |');
    expect(md[1]).toBe('|---|---:|---|---|---:|---:|---:|---:|');
    expect(md[2]).toMatch(/^\| model\.ckpt \| \dK? \| dyn\.txt \| whole \| 2,9\d\d \| \d\.\d{4} \| \d\.\d{4} \| [\d.]+ \|$/);
    expect(md.at(-1)).toMatch(/^Dynamic evaluation \(Krause et al\., 2018\): rms, lr [\d.e-]+, decay [\d.e-]+, segments of 50/);
    const json = JSON.parse(charnn(['bench', ckpt, '--on', file, '--format', 'json']).out);
    expect(json[0]).toMatchObject({ split: 'whole', files: 1, dynamic_bits_per_unit: null });
    expect(json[0].params).toBeGreaterThan(1000);
  });
});
