// Resume through the real bin: the final score is always of the run's own best weights, whatever
// file is at --out; a resume on another text is refused unless --new-data starts a new best;
// a spent budget says so and writes nothing.
import { describe, expect, it, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, saveModel } from '../src/model/store.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = path.join(root, 'bin', 'charnn.js');
const dir = mkdtempSync(path.join(tmpdir(), 'charnn-resume-'));
const at = (f: string) => path.join(dir, f);
const engine = ['--backend', 'simd', '--threads', '1'];
const small = ['--layers', '1', '--hidden', '16', '--embed', '8', '--batch', '4', '--seq', '16', ...engine];
/** One step at a rate that wrecks the weights: no estimate of the resumed run can beat the recorded best. */
const noImprovement = ['--steps', '26', '--lr', '2', '--min-lr', '2', '--warmup', '0'];

function charnn(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function summary(r: ReturnType<typeof charnn>): Record<string, number | string | null> {
  expect(r.code, r.err).toBe(0);
  expect(r.err).not.toMatch(/\n\s+at /);
  return JSON.parse(r.out.trim().split('\n').at(-1)!);
}

const score = (ckpt: string) => JSON.parse(charnn(['eval', ckpt, 'v.txt', ...engine, '--json']).out.trim().split('\n').at(-1)!).nats_per_char as number;
const sameWeights = async (a: string, b: string) => Buffer.from((await loadModel(a)).params.buffer).equals(Buffer.from((await loadModel(b)).params.buffer));

/** Whole-split score of the lineage's best weights (a.ckpt, written at its best step). */
let best: number;
let bestStep: number;

beforeAll(() => {
  // Random words: the same characters in any order, so an edited copy keeps the vocabulary.
  let x = 7;
  const words = 'the quick brown fox jumps over a lazy dog while seven wizards quietly hex bold zebras'.split(' ');
  const lines = Array.from({ length: 400 }, () => Array.from({ length: 10 }, () => words[(x = (x * 1103515245 + 12345) % 2 ** 31) % words.length]).join(' '));
  writeFileSync(at('c.txt'), lines.join('\n') + '\n');
  writeFileSync(at('v.txt'), lines.slice(0, 60).join('\n') + '\n');
  writeFileSync(at('edited.txt'), [...lines.slice(200), ...lines.slice(0, 200)].join('\n') + '\n');
  // Best at step 10 or 20 in a.ckpt; a latest state at 25 that is not the best.
  expect(charnn(['train', 'c.txt', ...small, '--val', 'v.txt', '--steps', '1000', '--stop-after', '20', '--eval-every', '10', '--out', 'a.ckpt', '--json']).code).toBe(0);
  expect(charnn(['train', '--resume', 'a.latest.ckpt', '--stop-after', '5', '--eval-every', '1000', '--json']).code).toBe(0);
  best = score('a.ckpt');
  bestStep = readTraining('a.ckpt').step;
  expect(readTraining('a.latest.ckpt').step).toBe(25);
  expect(readTraining('a.latest.ckpt').best_step).toBe(bestStep);
}, 120_000);

function readTraining(file: string): Record<string, unknown> & { step: number } {
  const b = readFileSync(at(file));
  const header = JSON.parse(b.subarray(8, 8 + Number(b.readBigUInt64LE(0))).toString('utf8'));
  return JSON.parse(header.__metadata__.training);
}

describe('the final score is of the best weights the run holds', () => {
  it('resumed to a new --out: those weights are written there, with their score', async () => {
    const s = summary(charnn(['train', '--resume', 'a.latest.ckpt', ...noImprovement, '--out', 'fresh.ckpt', '--json']));
    expect(s.best_step).toBe(bestStep);
    expect(s.val_loss).toBeCloseTo(best, 6);
    expect(await sameWeights(at('fresh.ckpt'), at('a.ckpt'))).toBe(true);
    expect(readTraining('fresh.ckpt').val_loss).toBeCloseTo(best, 6);
  });

  it("another model's checkpoint of the same shape at --out: replaced by the best, its score never reported", async () => {
    expect(charnn(['train', 'c.txt', ...small, '--val', 'v.txt', '--steps', '30', '--seed', '7', '--out', 'other.ckpt', '--json']).code).toBe(0);
    const other = score('other.ckpt');
    expect(Math.abs(other - best)).toBeGreaterThan(1e-4);
    copyFileSync(at('other.ckpt'), at('there.ckpt'));
    const s = summary(charnn(['train', '--resume', 'a.latest.ckpt', ...noImprovement, '--out', 'there.ckpt', '--json']));
    expect(s.val_loss).toBeCloseTo(best, 6);
    expect(await sameWeights(at('there.ckpt'), at('a.ckpt'))).toBe(true);
  });

  it('another model of another shape at --out: no stack trace, the same result', () => {
    expect(charnn(['train', 'c.txt', '--layers', '2', '--hidden', '24', '--embed', '8', '--batch', '4', '--seq', '16', ...engine, '--steps', '3', '--out', 'big.ckpt', '--json']).code).toBe(0);
    const s = summary(charnn(['train', '--resume', 'a.latest.ckpt', ...noImprovement, '--out', 'big.ckpt', '--json']));
    expect(s.val_loss).toBeCloseTo(best, 6);
  });

  it('from a copied latest checkpoint, which becomes --out: the best is scored, not the latest weights', async () => {
    copyFileSync(at('a.latest.ckpt'), at('copy.ckpt'));
    const s = summary(charnn(['train', '--resume', 'copy.ckpt', ...noImprovement, '--json']));
    expect(s.checkpoint).toBe('copy.ckpt');
    expect(s.val_loss).toBeCloseTo(best, 6);
    expect(await sameWeights(at('copy.ckpt'), at('a.ckpt'))).toBe(true);
  });

  it('an --out that already holds exactly those weights is kept, optimizer state and all', async () => {
    copyFileSync(at('a.ckpt'), at('same.ckpt'));
    const s = summary(charnn(['train', '--resume', 'a.latest.ckpt', ...noImprovement, '--out', 'same.ckpt', '--json']));
    const kept = await loadModel(at('same.ckpt'));
    expect(kept.m && kept.v).toBeTruthy();
    expect(kept.training.step).toBe(bestStep);
    expect(kept.training.val_loss).toBeCloseTo(s.val_loss as number, 6);
  });
});

describe('resume checks the text', () => {
  it('an edited corpus with the same characters is refused; --new-data trains on it with a new best', () => {
    const refused = charnn(['train', 'edited.txt', '--resume', 'a.latest.ckpt', '--steps', '40', '--out', 'nd.ckpt']);
    expect(refused.code).toBe(1);
    expect(refused.err.trim().split('\n')).toHaveLength(1);
    expect(refused.err).toMatch(/edited\.txt with --val v\.txt is not the text a\.latest\.ckpt was trained on \(training text: .*\); .*--new-data/);
    expect(existsSync(at('nd.latest.ckpt'))).toBe(false);

    const r = charnn(['train', 'edited.txt', '--resume', 'a.latest.ckpt', '--new-data', '--steps', '40', '--eval-every', '5', '--out', 'nd.ckpt']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/--new-data: .*a new best-so-far starts at step 25/);
    const t = readTraining('nd.latest.ckpt');
    expect(t.new_data_step).toBe(25);
    expect(t.best_step as number).toBeGreaterThan(25);
    expect(readTraining('nd.ckpt').step).toBe(t.best_step);
    // The text it now records is the edited one: resuming on it needs no flag.
    expect(charnn(['train', 'edited.txt', '--resume', 'nd.latest.ckpt', '--steps', '42', '--out', 'nd.ckpt']).code).toBe(0);
  });

  it('a checkpoint written before fingerprints (and best copies) were kept still resumes, saying so', async () => {
    const old = await loadModel(at('a.latest.ckpt'));
    delete old.training.train_text;
    delete old.training.val_text;
    old.extra!.delete('best.params');
    await saveModel(at('old.latest.ckpt'), old);
    const r = charnn(['train', '--resume', 'old.latest.ckpt', '--steps', '30', '--out', 'old.ckpt']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/old\.latest\.ckpt records no fingerprint of its text .* cannot be checked/);
    expect(r.err).toMatch(/old\.latest\.ckpt does not hold its best weights .* starts a best-so-far of its own/);
    expect(readTraining('old.latest.ckpt').train_text).toBeTruthy();
  });

  it('--steps at or below the checkpoint step says so in one line, exits 0 and writes nothing', () => {
    const before = readFileSync(at('a.latest.ckpt'));
    for (const steps of ['25', '10']) {
      const r = charnn(['train', '--resume', 'a.latest.ckpt', '--steps', steps, '--out', 'none.ckpt']);
      expect(r.code).toBe(0);
      expect(r.err.trim().split('\n')).toEqual([`a.latest.ckpt is at step 25, and --steps ${steps} counts all steps, those before the resume included: nothing is left to train; give a larger budget to train further`]);
    }
    expect(existsSync(at('none.ckpt')) || existsSync(at('none.latest.ckpt'))).toBe(false);
    expect(readFileSync(at('a.latest.ckpt')).equals(before)).toBe(true);
  });
});
