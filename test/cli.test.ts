// Runs the real bin: train a few steps on a small file, then sample, eval and inspect that
// checkpoint; and bad input must give one line on stderr and a non-zero exit code.
import { describe, expect, it, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = path.join(root, 'bin', 'charnn.js');
const dir = mkdtempSync(path.join(tmpdir(), 'charnn-cli-'));
const corpus = path.join(dir, 'small.txt');
const ckpt = path.join(dir, 'out', 'small.ckpt');

function charnn(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function expectOneLineError(r: ReturnType<typeof charnn>, fragment: RegExp) {
  expect(r.code).not.toBe(0);
  const lines = r.err.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(fragment);
  expect(r.err).not.toMatch(/\n\s+at /);
}

beforeAll(() => {
  if (!existsSync(path.join(root, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first (npm test does)');
  const line = 'First Citizen:\r\nBefore we proceed any further, hear me speak. 🙂 Ünïcode—ok.\r\n\r\n';
  writeFileSync(corpus, '\uFEFF' + line.repeat(60));
});

describe('charnn CLI', () => {
  const small = ['--layers', '1', '--hidden', '24', '--embed', '8', '--batch', '4', '--seq', '32', '--eval-every', '10'];

  it('train writes a checkpoint and a JSON summary', () => {
    const r = charnn('train', corpus, ...small, '--steps', '20', '--out', ckpt, '--json');
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    const summary = lines[lines.length - 1];
    for (const key of ['steps', 'params', 'backend', 'train_loss', 'val_loss', 'val_bpc', 'chars_per_sec', 'checkpoint']) {
      expect(summary, key).toHaveProperty(key);
    }
    expect(summary.steps).toBe(20);
    expect(summary.val_bpc).toBeCloseTo(summary.val_loss / Math.LN2, 5);
    expect(lines.filter((l) => l.type === 'step')).toHaveLength(20);
    expect(existsSync(ckpt)).toBe(true);
  });

  it('sample streams text and repeats itself under the same seed', () => {
    const a = charnn('sample', ckpt, '--prime', 'First', '--length', '60', '--temperature', '0.8', '--seed', '7');
    const b = charnn('sample', ckpt, '--prime', 'First', '--length', '60', '--temperature', '0.8', '--seed', '7');
    const c = charnn('sample', ckpt, '--prime', 'First', '--length', '60', '--temperature', '0.8', '--seed', '8');
    expect(a.code, a.err).toBe(0);
    expect(a.out.startsWith('First')).toBe(true);
    expect([...a.out.trimEnd()].length).toBeGreaterThanOrEqual(60);
    expect(a.out).toBe(b.out);
    expect(a.out).not.toBe(c.out);
    const g = charnn('sample', ckpt, '--prime', 'Fir§st', '--length', '10', '--greedy', '--top-k', '3');
    expect(g.code).toBe(0);
    expect(g.err).toMatch(/skipped 1 character/);
  });

  it('eval reports nats, bits and perplexity; info describes the checkpoint', () => {
    const r = charnn('eval', ckpt, corpus, '--json');
    expect(r.code, r.err).toBe(0);
    const e = JSON.parse(r.out);
    // Every character but the first is scored once (the BOM is not a character of the text).
    expect(e.chars).toBe([...('First Citizen:\r\nBefore we proceed any further, hear me speak. 🙂 Ünïcode—ok.\r\n\r\n'.repeat(60))].length - 1);
    expect(e.bits_per_char).toBeCloseTo(e.nats_per_char / Math.LN2, 6);
    expect(e.perplexity).toBeCloseTo(Math.exp(e.nats_per_char), 4);
    const i = charnn('info', ckpt);
    expect(i.code, i.err).toBe(0);
    expect(i.out).toMatch(/lstm, 1 layer × 24 hidden/);
    expect(i.out).toMatch(/training steps\s+20/);
  });

  it('train NAME uses the catalogue corpus and its standard split, and info says so', () => {
    const cache = path.join(dir, 'corpora');
    mkdirSync(cache, { recursive: true });
    copyFileSync(path.join(root, '..', 'shared', 'corpora', 'tinyshakespeare.txt'), path.join(cache, 'tinyshakespeare.txt'));
    const out = path.join(dir, 'ts.ckpt');
    const r = charnn('train', 'tinyshakespeare', '--corpus-dir', cache, ...small, '--steps', '3', '--out', out, '--json');
    expect(r.code, r.err).toBe(0);
    const info = JSON.parse(charnn('info', out, '--json').out);
    expect(info.corpus_name).toBe('tinyshakespeare');
    // nanoGPT's split of the 1,115,394 characters: the first 90% train.
    expect(info.split).toMatch(/0–1,003,854 train, 1,003,854–1,115,394 validate/);
    expectOneLineError(charnn('train', 'enwik8', '--corpus-dir', cache, '--steps', '1'), /not downloaded yet: run `charnn corpus get enwik8 --corpus-dir /);
  });

  it('bad input: one line, non-zero exit, no stack trace', () => {
    const empty = path.join(dir, 'empty.txt');
    writeFileSync(empty, '');
    const notCkpt = path.join(dir, 'notes.ckpt');
    writeFileSync(notCkpt, 'just some text, long enough to look like something\n');
    mkdirSync(path.join(dir, 'adir'), { recursive: true });
    expectOneLineError(charnn('train', path.join(dir, 'missing.txt'), '--steps', '1'), /missing\.txt/);
    expectOneLineError(charnn('train', empty, '--steps', '1'), /empty/);
    // A folder is a text of its files; an empty one has nothing to read.
    expectOneLineError(charnn('train', path.join(dir, 'adir'), '--steps', '1'), /adir holds no text file/);
    expectOneLineError(charnn('sample', notCkpt), /notes\.ckpt/);
    expectOneLineError(charnn('sample', path.join(dir, 'missing.ckpt')), /missing\.ckpt/);
    expectOneLineError(charnn('eval', ckpt, path.join(dir, 'adir')), /adir holds no text file/);
    expectOneLineError(charnn('info', corpus), /small\.txt/);
    expectOneLineError(charnn('train', corpus, '--steps', 'abc'), /--steps/);
    expectOneLineError(charnn('train', corpus, '--lr', '-1'), /--lr/);
    expectOneLineError(charnn('train', corpus, '--time', '10 minutes'), /--time/);
    expectOneLineError(charnn('train', corpus, '--backend', 'quantum'), /--backend/);
    expectOneLineError(charnn('sample', ckpt, '--temperature', '0'), /--temperature/);
    expectOneLineError(charnn('train', corpus, '--bogus'), /--bogus/);
    // An output folder that cannot be written is refused before any training.
    expectOneLineError(charnn('train', corpus, '--steps', '1', '--out', path.join(corpus, 'x.ckpt')), /--out/);
    expectOneLineError(charnn('train', '--resume', ckpt, '--hidden', '99'), /--hidden 99 contradicts/);
  });
});

// A terminal, through util-linux `script`: its pseudo-terminal has the size of the terminal it was
// started from, so under a test runner none (0 columns) unless stty gives it one.
const hasScript = spawnSync('script', ['--version']).status === 0;

describe.runIf(hasScript)('charnn CLI on a terminal', () => {
  const small = ['--layers', '1', '--hidden', '24', '--embed', '8', '--batch', '4', '--seq', '32', '--eval-every', '10'];

  for (const cols of [0, 100]) {
    it(`train draws its spinner, bar and chart and finishes on a terminal of ${cols} columns`, () => {
      const out = path.join(dir, `tty${cols}.ckpt`);
      const cmd = [process.execPath, bin, 'train', corpus, ...small, '--steps', '20', '--out', out].map((a) => `'${a}'`).join(' ');
      const r = spawnSync('script', ['-qfec', `stty cols ${cols} rows ${cols ? 30 : 0}; ${cmd}`, '/dev/null'], {
        encoding: 'utf8', cwd: dir, timeout: 60_000, maxBuffer: 64 << 20,
      });
      // A spinner that takes 0 columns for a width clears "infinitely many" lines: it never ends.
      expect(r.error, 'timed out or flooded the terminal').toBeUndefined();
      expect(r.status, r.stdout.slice(-2000)).toBe(0);
      expect(r.stdout.length).toBeLessThan(200_000);
      // eslint-disable-next-line no-control-regex
      expect(r.stdout.replace(/\u001b\[[0-9;]*m/g, '')).toMatch(/trained 20 steps of a [\d,]+-parameter lstm/);
      expect(existsSync(out)).toBe(true);
    });
  }
});
