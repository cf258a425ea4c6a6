// Ctrl-C and SIGTERM through the real bin: exit 130/143, a checkpoint that loads, and a resume
// that continues from it.
import { describe, expect, it, beforeAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../src/model/store.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = path.join(root, 'bin', 'charnn.js');
const dir = mkdtempSync(path.join(tmpdir(), 'charnn-signals-'));
const corpus = path.join(dir, 'text.txt');
const small = ['--layers', '1', '--hidden', '16', '--embed', '8', '--batch', '4', '--seq', '16', '--eval-every', '5', '--save-every', '0', '--json'];

beforeAll(() => writeFileSync(corpus, 'A stitch in time saves nine; look before you leap.\n'.repeat(80)));

/** Starts a long training run and sends `signals` once it has reported `afterSteps` steps. */
function interrupt(out: string, signals: NodeJS.Signals[], afterSteps = 3): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, 'train', corpus, ...small, '--steps', '1000000', '--out', out], { cwd: dir });
    let stdout = '', sent = false;
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!sent && stdout.split('\n').filter((l) => l.includes('"type":"step"')).length >= afterSteps) {
        sent = true;
        for (const s of signals) child.kill(s);
      }
    });
    child.on('exit', (code) => resolve({ code, stdout }));
  });
}

describe('interruption', () => {
  it('SIGINT: exit 130, a checkpoint that loads, and a resume that continues', async () => {
    const out = path.join(dir, 'int.ckpt');
    const r = await interrupt(out, ['SIGINT']);
    expect(r.code).toBe(130);
    const latest = path.join(dir, 'int.latest.ckpt');
    const m = await loadModel(latest);
    expect(m.training.step).toBeGreaterThanOrEqual(3);
    const res = spawnSync(process.execPath, [bin, 'train', '--resume', latest, '--stop-after', '2', '--json'], { cwd: dir, encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    const steps = res.stdout.split('\n').filter((l) => l.includes('"type":"step"')).map((l) => JSON.parse(l).step);
    expect(steps).toEqual([m.training.step + 1, m.training.step + 2]);
  });

  it('SIGTERM: exit 143 with a checkpoint', async () => {
    const out = path.join(dir, 'term.ckpt');
    const r = await interrupt(out, ['SIGTERM']);
    expect(r.code).toBe(143);
    expect((await loadModel(path.join(dir, 'term.latest.ckpt'))).training.step).toBeGreaterThanOrEqual(3);
  });

  it('a second Ctrl-C exits at once and leaves no temporary files', async () => {
    const out = path.join(dir, 'twice.ckpt');
    const r = await interrupt(out, ['SIGINT', 'SIGINT']);
    expect(r.code).toBe(130);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
