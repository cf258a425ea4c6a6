// sample --output through the real bin: however a run ends (a signal, a full disk, its folder
// removed) it leaves no temporary file behind and the previous output as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bin, charnn, expectOneLineError, isRoot, requireBuild, small } from './cli-run.js';

const dir = mkdtempSync(path.join(tmpdir(), 'charnn-output-'));
const ckpt = path.join(dir, 'model.ckpt');
const endless = ['sample', ckpt, '--length', '1000000000'];
const temporaries = (folder: string) => (existsSync(folder) ? readdirSync(folder).filter((f) => f.includes('.tmp-')) : []);

/** Starts an endless sample into `out`; resolves once its temporary file exists. */
async function sampling(out: string) {
  const child = spawn(process.execPath, [bin, ...endless, '--output', out], { cwd: dir });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; err: string }>((resolve) => child.on('exit', (code) => resolve({ code, err })));
  for (let t = 0; temporaries(path.dirname(out)).length === 0; t++) {
    if (t > 1200 || child.exitCode !== null) throw new Error(`no temporary file appeared: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, exited };
}

const full = path.join(dir, 'full');
function tmpfs(): string | null {
  if (!isRoot) return 'mounting a small tmpfs needs root';
  mkdirSync(full);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full], { encoding: 'utf8' });
  return r.status === 0 ? null : `mount failed: ${r.stderr.trim()}`;
}
const noTmpfs = tmpfs();

beforeAll(() => {
  requireBuild();
  const corpus = path.join(dir, 'corpus.txt');
  writeFileSync(corpus, 'To be, or not to be, that is the question:\nWhether tis nobler in the mind to suffer\n'.repeat(40));
  const r = charnn(dir, ['train', corpus, ...small, '--steps', '10', '--out', ckpt, '--json']);
  if (r.code !== 0) throw new Error(r.err);
});
afterAll(() => {
  if (!noTmpfs) spawnSync('umount', [full]);
  rmSync(dir, { recursive: true, force: true });
});

describe('sample --output', () => {
  it('Ctrl-C, SIGTERM and SIGHUP leave no temporary file and the previous output as it was', async () => {
    const out = path.join(dir, 'out.txt');
    for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
      writeFileSync(out, 'previous\n');
      const { child, exited } = await sampling(out);
      child.kill(sig);
      expect((await exited).code, sig).toBe(code);
      expect(temporaries(dir), sig).toEqual([]);
      expect(readFileSync(out, 'utf8')).toBe('previous\n');
    }
  });

  it('removes temporary files of dead processes when writing there again, and keeps live ones', () => {
    const dead = path.join(dir, '.swept.txt.tmp-999999999-abcd1234');
    const live = path.join(dir, `.swept.txt.tmp-${process.pid}-abcd1234`);
    writeFileSync(dead, 'x'.repeat(1000));
    writeFileSync(live, 'x');
    const r = charnn(dir, ['sample', ckpt, '--length', '20', '--output', path.join(dir, 'swept.txt')]);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    rmSync(live);
  });

  it.skipIf(noTmpfs)(`a full disk stops sampling at the first failed write, in one line${noTmpfs ? ` (SKIPPED: ${noTmpfs})` : ''}`, () => {
    const out = path.join(full, 'out.txt');
    writeFileSync(out, 'previous\n');
    // A billion characters: only a stop at the failed write ends this within the timeout.
    const r = charnn(dir, [...endless, '--output', out], { timeout: 60_000 });
    expectOneLineError(r, /cannot write --output .*out\.txt: no space left on the device/);
    expect(readFileSync(out, 'utf8')).toBe('previous\n');
    expect(temporaries(full)).toEqual([]);
  });

  it('its folder removed while sampling is one line', async () => {
    const sub = path.join(dir, 'doomed');
    mkdirSync(sub);
    const { exited } = await sampling(path.join(sub, 'out.txt'));
    rmSync(sub, { recursive: true });
    const r = await exited;
    expectOneLineError({ code: r.code, out: '', err: r.err }, /--output .*doomed\/out\.txt: its folder does not exist/);
  });
});
