// Chooses dynamic evaluation's settings by measurement: `node scripts/dynamic-sweep.mjs CKPT FILE
// [--chars N] [--tail F] [--threads N]`. Scores N characters of FILE (default 30,000; with --tail
// F, from where its last fraction F starts: --tail 0.1 is tinyshakespeare's validation split)
// with `charnn eval --dynamic` in three stages, each keeping the best of the one before: the
// learning rate of each rule (segments of 50, decay 0), then the decay, then the segment length.
// Prints one line per run and the best settings. The static figure is the same in every run (one
// exact stream over the same characters), so the runs compare.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const [ckpt, text, ...rest] = process.argv.slice(2);
if (!ckpt || !text) {
  console.error('usage: node scripts/dynamic-sweep.mjs CKPT FILE [--chars N] [--tail F] [--threads N]');
  process.exit(2);
}
const opt = (name, dflt) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : dflt;
};
const chars = Number(opt('--chars', 30000));
const tail = Number(opt('--tail', 0));
const threads = opt('--threads', undefined);

function charnn(args) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/charnn.js'), ...args, ...(threads ? ['--threads', threads] : []), '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

// The part scored, as its own file.
const dir = mkdtempSync(path.join(tmpdir(), 'charnn-sweep-'));
const part = path.join(dir, 'part.txt');
const all = [...readFileSync(text, 'utf8')];
const from = Math.floor(all.length * (1 - tail)) % all.length;
writeFileSync(part, all.slice(from, from + chars).join(''));

const runs = [];
function run(rule, lr, decay, seq) {
  const r = charnn(['eval', ckpt, part, '--dynamic', '--dynamic-rule', rule, '--dynamic-lr', String(lr), '--dynamic-decay', String(decay), '--dynamic-seq', String(seq)]);
  const row = { rule, lr, decay, seq, static: r.bits_per_char, dynamic: r.dynamic_bits_per_char, charsPerSec: r.chars_per_sec };
  runs.push(row);
  console.log(`${rule.padEnd(4)} lr ${String(lr).padEnd(7)} decay ${String(decay).padEnd(6)} seq ${String(seq).padEnd(4)} static ${row.static.toFixed(4)}  dynamic ${row.dynamic.toFixed(4)}  (${Math.round(row.charsPerSec)} chars/s)`);
  return row;
}
const best = (rows) => rows.reduce((a, b) => (b.dynamic < a.dynamic ? b : a));

try {
  console.log(`${ckpt} on ${chars.toLocaleString('en-US')} characters of ${text} from character ${from.toLocaleString('en-US')}`);
  const perRule = [];
  for (const [rule, lrs] of [['rms', [1e-5, 3e-5, 1e-4, 3e-4, 1e-3]], ['sgd', [0.01, 0.03, 0.1, 0.3, 1]]]) {
    perRule.push(best(lrs.map((lr) => run(rule, lr, 0, 50))));
  }
  let b = best(perRule);
  b = best([b, ...[1e-3, 1e-2, 3e-2, 0.1].map((d) => run(b.rule, b.lr, d, 50))]);
  b = best([b, ...[20, 100].map((s) => run(b.rule, b.lr, b.decay, s))]);
  console.log(`best: --dynamic-rule ${b.rule} --dynamic-lr ${b.lr} --dynamic-decay ${b.decay} --dynamic-seq ${b.seq}: ${b.dynamic.toFixed(4)} bits/char against ${b.static.toFixed(4)} static`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
