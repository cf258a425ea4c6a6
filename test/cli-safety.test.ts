// The user's files are never lost and scripts never see stack traces: one test per class of
// defect, through the real bin.
import { describe, expect, it, beforeAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, linkSync, openSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint/index.js';
import { formatEta } from '../src/cli/progress.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = path.join(root, 'bin', 'charnn.js');
const dir = mkdtempSync(path.join(tmpdir(), 'charnn-safety-'));
const corpus = path.join(dir, 'corpus.txt');
const ckpt = path.join(dir, 'model.ckpt');
const small = ['--layers', '1', '--hidden', '16', '--embed', '8', '--batch', '4', '--seq', '16', '--eval-every', '5'];
const isRoot = process.getuid?.() === 0;

function charnn(args: string[], env: Record<string, string | undefined> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000, env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function expectOneLineError(r: ReturnType<typeof charnn>, fragment: RegExp) {
  expect(r.code, r.err).not.toBe(0);
  const lines = r.err.trim().split('\n').filter((l) => !l.startsWith('backend:'));
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(fragment);
  expect(r.err).not.toMatch(/\n\s+at /);
}

const snapshot = (f: string) => readFileSync(f).toString('base64');

/** Runs charnn with stdout piped, closes the pipe after the first output, resolves with exit code and time. */
function closeStdoutEarly(args: string[]): Promise<{ code: number | null; ms: number; err: string }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [bin, ...args], { cwd: dir });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.once('data', () => child.stdout.destroy());
    child.on('exit', (code) => resolve({ code, ms: Date.now() - t0, err }));
  });
}

beforeAll(() => {
  if (!existsSync(path.join(root, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first (npm test does)');
  writeFileSync(corpus, 'To be, or not to be, that is the question:\nWhether tis nobler in the mind to suffer\n'.repeat(40));
  const r = charnn(['train', corpus, ...small, '--steps', '10', '--out', ckpt, '--json']);
  if (r.code !== 0) throw new Error(r.err);
});

describe('outputs never land on inputs', () => {
  it('refuses --out, --log and the latest checkpoint on the corpus or --val file, however spelt', () => {
    const val = path.join(dir, 'val.txt');
    writeFileSync(val, 'Whether tis nobler in the mind to suffer\n'.repeat(5));
    const link = path.join(dir, 'corpus-link.txt');
    const hard = path.join(dir, 'corpus-hard.txt');
    symlinkSync(corpus, link);
    linkSync(corpus, hard);
    mkdirSync(path.join(dir, 'sub'), { recursive: true });
    const before = snapshot(corpus), valBefore = snapshot(val);
    const cases: [string[], RegExp][] = [
      [['--out', corpus], /--out .* same file as corpus/],
      [['--out', './sub/../corpus.txt'], /--out .* same file as corpus/],
      [['--out', link], /--out .* same file as corpus/],
      [['--out', hard], /--out .* same file as corpus/],
      [['--log', corpus], /--log .* same file as corpus/],
      [['--val', val, '--out', val], /--out .* same file as --val/],
      [['--val', val, '--log', val], /--log .* same file as --val/],
      [['--out', path.join(dir, 'corpus.txt.ckpt'), '--log', path.join(dir, 'corpus.txt.ckpt')], /same file as --out/],
    ];
    for (const [flags, msg] of cases) expectOneLineError(charnn(['train', corpus, ...small, '--steps', '2', ...flags]), msg);
    // sample's --output is an output like any other.
    const ckptBefore = snapshot(ckpt);
    expectOneLineError(charnn(['sample', ckpt, '--output', ckpt]), /--output .* same file as checkpoint/);
    expectOneLineError(charnn(['sample', ckpt, '--prime-file', val, '--output', val]), /--output .* same file as --prime-file/);
    expect(snapshot(ckpt)).toBe(ckptBefore);
    // The latest checkpoint is derived from --out (x.ckpt → x.latest.ckpt) and is checked too.
    const held = path.join(dir, 'held.latest.ckpt');
    writeFileSync(held, 'Whether tis nobler in the mind to suffer\n'.repeat(5));
    const heldBefore = snapshot(held);
    expectOneLineError(charnn(['train', corpus, ...small, '--steps', '2', '--val', held, '--out', path.join(dir, 'held.ckpt')]), /latest checkpoint .* same file as --val/);
    expect(snapshot(held)).toBe(heldBefore);
    expect(snapshot(corpus)).toBe(before);
    expect(snapshot(val)).toBe(valBefore);
  });

  it('never replaces a device, a pipe or a folder, and refuses before training', () => {
    const fifo = path.join(dir, 'pipe');
    spawnSync('mkfifo', [fifo]);
    expectOneLineError(charnn(['train', corpus, ...small, '--steps', '2', '--out', fifo]), /named pipe/);
    expect(statSync(fifo).isFIFO()).toBe(true);
    // A checkpoint path that is a pipe is refused at once instead of waiting for a writer.
    expectOneLineError(charnn(['info', fifo]), /not a regular file/);
    expectOneLineError(charnn(['sample', fifo]), /not a regular file/);
    if (isRoot) {
      const dev = path.join(dir, 'null-device');
      spawnSync('mknod', [dev, 'c', '1', '3']);
      expectOneLineError(charnn(['train', corpus, ...small, '--steps', '2', '--out', dev]), /a device/);
      expect(statSync(dev).isCharacterDevice()).toBe(true);
    } else {
      console.warn('SKIPPED: device-node --out case (mknod needs root)');
    }
    const folder = path.join(dir, 'a-folder');
    mkdirSync(folder);
    expectOneLineError(charnn(['train', corpus, ...small, '--steps', '2', '--out', folder]), /is a folder/);
    expectOneLineError(charnn(['train', corpus, ...small, '--steps', '2', '--out', folder + '/']), /names a folder/);
    expect(readdirSync(folder)).toEqual([]);
  });

  it('a second run writing the same --out is refused while the first runs; stale locks are taken over', async () => {
    const out = path.join(dir, 'locked.ckpt');
    const first = spawn(process.execPath, [bin, 'train', corpus, ...small, '--steps', '100000', '--out', out, '--json'], { cwd: dir });
    await new Promise<void>((resolve) => first.stdout.once('data', () => resolve()));
    expectOneLineError(charnn(['train', corpus, ...small, '--steps', '2', '--out', out]), /being written by another charnn run/);
    first.kill('SIGINT');
    await new Promise((resolve) => first.on('exit', resolve));
    expect(readdirSync(dir).filter((f) => f.endsWith('.lock'))).toEqual([]);
    // A lock left by a process that no longer exists does not block.
    writeFileSync(path.join(dir, '.locked.ckpt.lock'), '999999999\n');
    const r = charnn(['train', corpus, ...small, '--steps', '2', '--out', out, '--json']);
    expect(r.code, r.err).toBe(0);
  });

  it('removes temporary files of dead processes when saving there again, and keeps live ones', () => {
    const out = path.join(dir, 'tmpclean.ckpt');
    const dead = path.join(dir, '.tmpclean.ckpt.tmp-999999999-abcd1234');
    const live = path.join(dir, `.tmpclean.ckpt.tmp-${process.pid}-abcd1234`);
    writeFileSync(dead, 'x'.repeat(1000));
    writeFileSync(live, 'x');
    const r = charnn(['train', corpus, ...small, '--steps', '2', '--out', out, '--json']);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });
});

describe('pipes, terminals, colours', () => {
  it('a reader that goes away ends sample at once with exit 0, and info quietly', async () => {
    const s = await closeStdoutEarly(['sample', ckpt, '--length', '100000000']);
    expect(s.code, s.err).toBe(0);
    expect(s.err).not.toMatch(/EPIPE|\n\s+at /);
    expect(s.ms).toBeLessThan(60_000); // (100M characters would take far longer)
    const j = await closeStdoutEarly(['sample', ckpt, '--json']);
    expect(j.code, j.err).toBe(0);
    const i = await closeStdoutEarly(['info', ckpt]);
    expect(i.code, i.err).toBe(0);
    expect(i.err).toBe('');
  });

  it('train --json | head: training goes on and its checkpoints are written', async () => {
    const out = path.join(dir, 'headed.ckpt');
    const t = await closeStdoutEarly(['train', corpus, ...small, '--steps', '40', '--out', out, '--json']);
    expect(t.code, t.err).toBe(0);
    expect(t.err).not.toMatch(/EPIPE|\n\s+at /);
    const saved = await loadCheckpoint(out.replace('.ckpt', '.latest.ckpt'));
    expect(JSON.parse(saved.metadata.training).step).toBe(40);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-') && f.includes('headed'))).toEqual([]);
  });

  it('a full disk on stdout is a one-line error', () => {
    if (!existsSync('/dev/full')) return console.warn('SKIPPED: /dev/full does not exist here');
    const full = openSync('/dev/full', 'w');
    const r = spawnSync(process.execPath, [bin, 'sample', ckpt, '--length', '100000'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', full, 'pipe'] });
    closeSync(full);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/standard output: no space left/);
  });

  it('output off a terminal has no escape codes unless FORCE_COLOR asks; no ETA of NaN', () => {
    const args = ['train', corpus, ...small, '--steps', '12', '--out', path.join(dir, 'colour.ckpt')];
    for (const env of [{ NO_COLOR: undefined, FORCE_COLOR: undefined }, { NO_COLOR: '1', FORCE_COLOR: undefined }]) {
      const r = charnn(args, env);
      expect(r.code, r.err).toBe(0);
      expect(r.err + r.out).not.toMatch(/\x1b\[/);
      expect(r.err).toMatch(/train loss/);
      expect(r.err).not.toMatch(/NaN|NF/);
    }
    const forced = charnn(args, { FORCE_COLOR: '1', NO_COLOR: undefined });
    expect(forced.err).toMatch(/\x1b\[/);
    expect(formatEta(NaN)).toBe('—');
    expect(formatEta(Infinity)).toBe('—');
    expect(formatEta(125)).toBe('2m 05s');
  });
});

describe('bad input reaches one line, never a stack trace or a wrong number', () => {
  it('texts too short to train or to validate, and contradicting flags', () => {
    const tiny = path.join(dir, 'tiny.txt');
    writeFileSync(tiny, 'hello there, a short text');
    expectOneLineError(charnn(['train', tiny, '--steps', '2']), /fewer than one window of --seq 128.*--seq \d+ or less/);
    expectOneLineError(charnn(['train', corpus, ...small.slice(0, -4), '--seq', '99999', '--steps', '2']), /--seq 99999/);
    const one = path.join(dir, 'one.txt');
    writeFileSync(one, 'T');
    expectOneLineError(charnn(['train', corpus, ...small, '--steps', '2', '--val', one]), /--val .*at least 2/);
    expectOneLineError(charnn(['train', corpus, ...small, '--steps', '2', '--lr', '0.001', '--min-lr', '0.01']), /--min-lr 0.01 is above --lr 0.001/);
    expectOneLineError(charnn(['train', corpus, ...small, '--steps', '2', '--model', 'mingru', '--weight-drop', '0.2']), /--weight-drop applies to .* a mingru block has none/);
    expectOneLineError(charnn(['train', corpus, ...small, '--steps', '2', '--model', 'lstm', '--zoneout', '0.1']), /--zoneout applies to the state of gru layers; a lstm model has none/);
    expectOneLineError(charnn(['train', corpus, ...small, '--steps', '2', '--model', 'lstm', '--gate-norm']), /--gate-norm applies to the gates of gru layers; a lstm model has none/);
    expectOneLineError(charnn(['bench', '--speed', '--backends', ',']), /--backends/);
    const many = charnn(['train', corpus, ...small, '--steps', '2', '--threads', '256', '--out', path.join(dir, 'threads.ckpt'), '--json']);
    expect(many.code, many.err).toBe(0);
    expect(many.err).toMatch(/--threads 256 is more than the \d+ cores/);
  });

  async function damaged(name: string, change: (meta: Record<string, string>, tensors: Map<string, { shape: number[]; data: Float32Array }>) => void): Promise<string> {
    const ck = await loadCheckpoint(ckpt);
    const meta = { ...ck.metadata };
    change(meta, ck.tensors);
    delete meta.format; delete meta.format_version; delete meta.data_sha256; delete meta.header_sha256;
    const file = path.join(dir, name);
    await saveCheckpoint(file, { metadata: meta, tensors: [...ck.tensors].map(([n, t]) => ({ name: n, shape: t.shape, data: t.data })) });
    return file;
  }
  const editTraining = (f: (t: Record<string, unknown>) => void) => (meta: Record<string, string>) => {
    const t = JSON.parse(meta.training);
    f(t);
    meta.training = JSON.stringify(t);
  };

  it('checkpoints with valid checksums but impossible contents are refused, naming the checkpoint', async () => {
    const nan = await damaged('nan.ckpt', (_, t) => { t.get('head.bias')!.data[0] = NaN; });
    const inf = await damaged('inf.ckpt', (_, t) => { t.get('embed.weight')!.data[3] = Infinity; });
    const rng = await damaged('rng.ckpt', editTraining((t) => { t.rng = 'not,a,state'; }));
    const step = await damaged('step.ckpt', editTraining((t) => { t.step = -5; }));
    const lr = await damaged('lr.ckpt', editTraining((t) => { t.lr = -1; }));
    const cfg = await damaged('cfg.ckpt', (meta) => { meta.config = JSON.stringify({ ...JSON.parse(meta.config), hidden: 0 }); });
    for (const [file, msg] of [[nan, /nan\.ckpt.*NaN or infinite/], [inf, /inf\.ckpt.*NaN or infinite/], [rng, /rng\.ckpt.*"rng"/],
      [step, /step\.ckpt.*"step" is -5/], [lr, /lr\.ckpt.*"lr"/], [cfg, /cfg\.ckpt has a damaged model config: hidden/]] as [string, RegExp][]) {
      expectOneLineError(charnn(['sample', file, '--length', '5']), msg);
      expectOneLineError(charnn(['eval', file, corpus]), msg);
      expectOneLineError(charnn(['info', file]), msg);
      expectOneLineError(charnn(['train', '--resume', file, '--steps', '20']), msg);
    }
  });
});
