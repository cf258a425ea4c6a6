// Ctrl-C, SIGTERM and SIGHUP through the real bin: answered at once (within a long step too),
// exit 128 + the signal's number, a checkpoint that loads and a resume that continues from it; a
// second signal never loses the save, a third quits at once and says what it leaves.
import { describe, expect, it, beforeAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../src/model/store.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = path.join(root, 'bin', 'charnn.js');
const dir = mkdtempSync(path.join(tmpdir(), 'charnn-signals-'));
const corpus = path.join(dir, 'text.txt');
const small = ['--layers', '1', '--hidden', '16', '--embed', '8', '--batch', '4', '--seq', '16', '--eval-every', '5', '--save-every', '0', '--json'];
// A step of well over a second here (1.3 s on a 2-core machine): four GRU layers of 320 on one thread.
const slow = ['--model', 'gru', '--layers', '4', '--hidden', '320', '--embed', '16', '--batch', '32', '--seq', '64', '--threads', '1', '--backend', 'simd', '--eval-every', '1000', '--save-every', '0', '--json'];

beforeAll(() => writeFileSync(corpus, 'A stitch in time saves nine; look before you leap.\n'.repeat(80)));

interface Seen { ev: Record<string, unknown>; at: number }

/** Starts a long training run; `act` sees each JSON event as it arrives and may signal the child. */
function watch(out: string, flags: string[], act: (ev: Record<string, unknown>, child: ChildProcess, seen: Seen[]) => void): Promise<{ code: number | null; seen: Seen[]; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, 'train', corpus, ...flags, '--steps', '1000000', '--out', out], { cwd: dir });
    const seen: Seen[] = [];
    let buf = '', err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        const ev = JSON.parse(l) as Record<string, unknown>;
        seen.push({ ev, at: Date.now() });
        act(ev, child, seen);
      }
    });
    // A run that never answers must not outlive the test.
    const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, seen, err });
    });
  });
}

/** Sends `signals` once the run has reported `afterSteps` steps. */
function interrupt(out: string, signals: NodeJS.Signals[], afterSteps = 3) {
  let sent = false;
  return watch(out, small, (ev, child) => {
    if (!sent && ev.type === 'step' && ev.step === afterSteps) {
      sent = true;
      for (const s of signals) child.kill(s);
    }
  });
}

/**
 * Sends SIGINT 300 ms into step 2 (well inside it: a step takes over a second), then again after
 * each signal event, up to `times` in all; notes when each was sent.
 */
function repeatedCtrlC(out: string, times: number) {
  const sent: number[] = [];
  const send = (child: ChildProcess) => {
    sent.push(Date.now());
    child.kill('SIGINT');
  };
  return watch(out, slow, (ev, child) => {
    if (ev.type === 'step' && ev.step === 1) setTimeout(() => send(child), 300);
    if (ev.type === 'signal' && Number(ev.count) < times) send(child);
  }).then((r) => ({ ...r, sent }));
}

const tmpFiles = () => readdirSync(dir).filter((f) => f.includes('.tmp-'));

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

  it('SIGHUP (a dropped ssh session) is a SIGTERM: exit 129 with a checkpoint, not death', async () => {
    const out = path.join(dir, 'hup.ckpt');
    const r = await interrupt(out, ['SIGHUP']);
    expect(r.code).toBe(129);
    expect(r.seen.some((s) => s.ev.type === 'signal' && s.ev.signal === 'SIGHUP' && s.ev.action === 'stop')).toBe(true);
    expect((await loadModel(path.join(dir, 'hup.latest.ckpt'))).training.step).toBeGreaterThanOrEqual(3);
  });

  it('Ctrl-C during a step of over a second is answered within a second, before the step ends, and the run saves', async () => {
    const out = path.join(dir, 'slow.ckpt');
    const latest = path.join(dir, 'slow.latest.ckpt');
    const r = await repeatedCtrlC(out, 1);
    expect(r.code, r.err).toBe(130);
    const events = r.seen.map((s) => s.ev.type);
    const answer = r.seen.find((s) => s.ev.type === 'signal')!;
    expect(answer.ev.message).toBe(`SIGINT: stopping after this step: saving the latest state to ${latest} (again: cut short an evaluation in progress; a third time: quit at once)`);
    // Answered while step 2 still ran, which then finished.
    expect(events.slice(0, events.indexOf('summary') + 1)).toEqual(['step', 'signal', 'step', 'summary']);
    expect(answer.at - r.sent[0]).toBeLessThan(1000);
    expect((await loadModel(latest)).training.step).toBe(2);
  });

  it('Ctrl-C twice: the second cuts nothing that matters, and the latest state is still saved', async () => {
    const out = path.join(dir, 'twice.ckpt');
    const r = await repeatedCtrlC(out, 2);
    expect(r.code, r.err).toBe(130);
    expect(r.seen.filter((s) => s.ev.type === 'signal').map((s) => s.ev.action)).toEqual(['stop', 'cut']);
    expect((await loadModel(path.join(dir, 'twice.latest.ckpt'))).training.step).toBe(2);
    expect(tmpFiles()).toEqual([]);
  });

  it('Ctrl-C three times quits at once, says what it leaves, and leaves no temporary files', async () => {
    const out = path.join(dir, 'thrice.ckpt');
    const r = await repeatedCtrlC(out, 3);
    expect(r.code, r.err).toBe(130);
    const said = r.seen.filter((s) => s.ev.type === 'signal').map((s) => s.ev);
    expect(said.map((e) => e.action)).toEqual(['stop', 'cut', 'quit']);
    // Nothing was saved yet (--save-every 0, no estimate): it says so, and nothing appears.
    expect(said[2].message).toBe('SIGINT a third time: quitting at once; no latest state was saved');
    expect(r.seen.some((s) => s.ev.type === 'summary')).toBe(false);
    expect(existsSync(path.join(dir, 'thrice.latest.ckpt'))).toBe(false);
    expect(tmpFiles()).toEqual([]);
  });
});
