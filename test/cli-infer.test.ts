// Sampling, eval and the perplexity table through the real bin: what a user sees.
import { describe, expect, it, beforeAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = path.join(root, 'bin', 'charnn.js');
const dir = mkdtempSync(path.join(tmpdir(), 'charnn-infer-'));
const corpus = path.join(dir, 'corpus.txt');
const other = path.join(dir, 'other.txt');
const ckpt = path.join(dir, 'model.ckpt');
const bytes = path.join(dir, 'bytes.ckpt');
const small = ['--layers', '1', '--hidden', '24', '--embed', '8', '--batch', '4', '--seq', '16', '--eval-every', '10', '--backend', 'simd'];

function charnn(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  if (!existsSync(path.join(root, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first (npm test does)');
  writeFileSync(corpus, 'Now is the winter of our discontent\nMade glorious summer by this sun of York;\n'.repeat(120));
  writeFileSync(other, 'And all the clouds that lour\'d upon our house\nIn the deep bosom of the ocean buried. 🙂\n'.repeat(40));
  for (const [out, extra] of [[ckpt, []], [bytes, ['--tokenizer', 'bytes']]] as [string, string[]][]) {
    const r = charnn('train', corpus, ...small, ...extra, '--steps', '30', '--out', out, '--json');
    if (r.code !== 0) throw new Error(r.err);
  }
});

describe('sample', () => {
  it('the same seed gives the same text with and without --count, on 1 and 2 threads', () => {
    const base = ['sample', ckpt, '--prime', 'Now', '--length', '80', '--seed', '11'];
    const one = charnn(...base, '--threads', '1');
    expect(one.code, one.err).toBe(0);
    for (const threads of ['1', '2']) {
      const single = charnn(...base, '--threads', threads);
      expect(single.out).toBe(one.out);
      const many = JSON.parse(charnn(...base, '--threads', threads, '--count', '3', '--json').out);
      expect(many.texts).toHaveLength(3);
      expect(many.texts[0] + '\n').toBe(one.out);
      expect(new Set(many.texts).size).toBe(3);
    }
    const printed = charnn(...base, '--count', '2');
    expect(printed.out).toMatch(/sample 1 of 2[^\n]*\nNow/);
    expect(printed.out).toMatch(/sample 2 of 2/);
  });

  it('--stop ends each sample at its first stop string; --prime-file and --output', () => {
    const r = JSON.parse(charnn('sample', ckpt, '--length', '2000', '--count', '2', '--stop', 'e', '--json', '--seed', '3').out);
    for (const t of r.texts) {
      expect(t.endsWith('e')).toBe(true);
      expect(t.slice(0, -1).slice(1).includes('e')).toBe(false); // (the prime, a newline, has none)
    }
    const primeFile = path.join(dir, 'prime.txt');
    writeFileSync(primeFile, '\uFEFFMade glorious');
    const out = path.join(dir, 'sample.txt');
    const s = charnn('sample', ckpt, '--prime-file', primeFile, '--length', '50', '--output', out);
    expect(s.code, s.err).toBe(0);
    expect(s.out).toBe('');
    expect(readFileSync(out, 'utf8').startsWith('Made glorious')).toBe(true);
  });
});

describe('eval', () => {
  it('--streams 1 is the exact single stream; the default segmented figure is close to it and says how it cut the file', () => {
    const one = JSON.parse(charnn('eval', ckpt, corpus, '--streams', '1', '--json').out.trim().split('\n').pop()!);
    const many = JSON.parse(charnn('eval', ckpt, corpus, '--json').out.trim().split('\n').pop()!);
    expect(one.streams).toBe(1);
    expect(many.streams).toBeGreaterThan(1);
    expect(many.chars).toBe(one.chars);
    expect(Math.abs(many.bits_per_char - one.bits_per_char)).toBeLessThan(1e-2);
    const text = charnn('eval', ckpt, corpus);
    expect(text.out).toMatch(/segments of ~[\d,]+ chars side by side, each after the first warmed up on the 128 chars before it/);
  });

  it('a byte model is scored per byte and says so, with no unknown symbols', () => {
    const r = JSON.parse(charnn('eval', bytes, other, '--json').out.trim().split('\n').pop()!);
    expect(r.unit).toBe('byte');
    expect(r.unknown_chars_skipped).toBe(0);
    expect(r.chars).toBe(Buffer.byteLength(readFileSync(other, 'utf8')) - 1);
    expect(charnn('eval', bytes, other).out).toMatch(/bits\/byte[\s\S]*a byte-level model/);
  });

  it('Ctrl-C prints the result over what was scored so far', async () => {
    const big = path.join(dir, 'big.txt');
    writeFileSync(big, readFileSync(corpus, 'utf8').repeat(400));
    const child = spawn(process.execPath, [bin, 'eval', ckpt, big, '--streams', '1', '--json'], { cwd: dir });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    setTimeout(() => child.kill('SIGINT'), 2500);
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.partial).toBe(true);
    expect(r.chars).toBeGreaterThan(0);
    expect(r.chars).toBeLessThan(readFileSync(big, 'utf8').length - 1);
    expect(Number.isFinite(r.bits_per_char)).toBe(true);
  });
});

describe('bench CKPT... --on FILE...', () => {
  it('every format parses and matches eval on the same pair', () => {
    const evalOf = (c: string, f: string) => JSON.parse(charnn('eval', c, f, '--json').out.trim().split('\n').pop()!);
    const json = JSON.parse(charnn('bench', ckpt, bytes, '--on', corpus, other, '--format', 'json').out);
    expect(json).toHaveLength(4);
    for (const row of json) {
      const e = evalOf(row.checkpoint, row.file);
      expect(row.bits_per_unit).toBeCloseTo(e.bits_per_char, 10);
      expect(row.scored).toBe(e.chars);
      expect(row.unknown).toBe(e.unknown_chars_skipped);
      expect(row.unit).toBe(row.checkpoint === bytes ? 'byte' : 'char');
    }
    const csv = charnn('bench', ckpt, bytes, '--on', corpus, other, '--format', 'csv').out.trim().split('\n');
    const head = csv[0].split(',');
    expect(csv).toHaveLength(5);
    const bits = head.indexOf('bits_per_unit');
    csv.slice(1).forEach((line, i) => expect(Number(line.split(',')[bits])).toBeCloseTo(json[i].bits_per_unit, 10));
    const md = charnn('bench', ckpt, '--on', corpus, '--format', 'markdown').out;
    expect(md).toMatch(/^\| model \| params \| text \| split \| chars \| bits\/char \| perplexity \|/);
    expect(md.trim().split('\n')).toHaveLength(3);
  });
});
