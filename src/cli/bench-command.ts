// `charnn bench`: a perplexity table of checkpoints on files (`bench CKPT... --on FILE...`), or
// `--speed`: matrix-product GFLOP/s at the training config's own shapes, training, sampling and
// eval chars/s, for every backend that runs here, measured on the spot (medians).
import type { Command } from 'commander';
import { benchMatmul } from '../engine/matmul-speed.js';
import { listBackends, type BackendStatus } from '../select/auto-choice.js';
import { createEngine, type BackendName } from '../select/create-engine.js';
import { BACKENDS, backendName } from '../engine/backends.js';
import { validateConfig, type Cell } from '../model/config.js';
import { measureTrainSpeed } from '../train/throughput.js';
import { UserError } from '../errors.js';
import { TRAIN_SETTINGS } from '../model/settings.js';
import { ENGINE_FLAGS, capThreads, jsonFlag } from './common-flags.js';
import { outColor as chalk, stdout } from './io.js';
import { addFlags, pick, type FlagSpec } from './parse.js';
import { fmtInt, jsonLine, makeUi } from './ui.js';
import { measureSampleSpeed } from '../sample/sample-speed.js';
import { measureEvalSpeed } from '../eval/eval-speed.js';
import { benchPerplexity, PERPLEXITY_FLAGS, type PerplexityFlags } from './bench-table-command.js';

const size = (key: string) => pick(TRAIN_SETTINGS, key, { help: `${pick(TRAIN_SETTINGS, key).help} of the benchmarked model` });

const BENCH_FLAGS: FlagSpec[] = [
  { key: 'speed', flag: '--speed', kind: { type: 'switch' }, help: 'matrix-product GFLOP/s and training chars/s for every backend that runs here' },
  size('model'), size('layers'), size('hidden'), size('embed'), size('mlp'), size('batch'), size('seq'),
  { key: 'vocab', flag: '--vocab', arg: '<n>', kind: { type: 'int', min: 2, max: 1 << 20 }, default: 65, help: 'vocabulary size (tinyshakespeare has 65)' },
  { key: 'steps', flag: '--steps', arg: '<n>', kind: { type: 'int', min: 1, max: 1000 }, default: 5, help: 'timed training steps per backend (after one warm-up step)' },
  { key: 'backends', flag: '--backends', arg: '<list>', kind: { type: 'text' }, help: 'comma-separated backends to measure (default: all that run here)' },
  ...PERPLEXITY_FLAGS,
  ...ENGINE_FLAGS,
  jsonFlag('(--speed) one JSON object per backend, then a summary line'),
];

interface BenchFlags extends PerplexityFlags {
  speed?: boolean; model: Cell; layers: number; hidden: number; embed: number; mlp: number; batch: number; seq: number;
  vocab: number; steps: number; backends?: string; json?: boolean;
}

export function registerBench(program: Command): void {
  const cmd = program
    .command('bench')
    .description('a perplexity table of checkpoints on files, or (--speed) the backends of this machine')
    .argument('[checkpoints...]', 'checkpoints to score on every --on file');
  addFlags(cmd, BENCH_FLAGS)
    .addHelpText('after', `
Examples:
  charnn bench checkpoints/*.ckpt --on a.txt b.txt --format markdown
  charnn bench --speed --hidden 256 --batch 32 --seq 128`)
    .action(async (ckpts: string[], f: BenchFlags) => {
      if (ckpts.length > 0 || f.on) return benchPerplexity(ckpts, f);
      if (!f.speed) throw new UserError('bench needs checkpoints and --on FILE... (a perplexity table), or --speed; see charnn bench --help');
      const ui = makeUi(!!f.json);
      const config = validateConfig({ cell: f.model, vocab: f.vocab, embed: f.embed, hidden: f.hidden, layers: f.layers, mlp: f.mlp });
      // Every backend, each in its own process (a GPU driver crash, or two GL stacks in one
      // process, must not end the benchmark): works or why not, and training chars/s.
      const statuses = await ui.wait('Probing every backend', () => listBackends({ config, batch: f.batch, seq: f.seq, steps: 2 }, { threads: f.threads }));
      const shape = { cell: config.cell, layers: config.layers, hidden: config.hidden, batch: f.batch, seq: f.seq };
      if (ui.json) for (const s of statuses) jsonLine(statusLine(s, shape));
      else printStatuses(statuses);
      // The detailed in-process table: cpu unless --backends names others.
      const backends = f.backends ? parseList(f.backends) : (['cpu'] as BackendName[]);
      const B = f.batch, T = f.seq, H = f.hidden, G = 4 * H;
      const shapes = [
        { label: `${B}x${G}x${H} step`, m: B, n: G, k: H },
        { label: `${B * T}x${G}x${H}`, m: B * T, n: G, k: H },
        { label: `${H}x${G}x${B * T} At`, m: H, n: G, k: B * T, transA: true },
        { label: `${B * T}x${H}x${G} Bt`, m: B * T, n: H, k: G, transB: true },
      ];
      const rows: Record<string, unknown>[] = [];
      for (const name of backends) {
        const { engine } = await createEngine(name, { threads: capThreads(f.threads, ui) });
        try {
          const row: Record<string, unknown> = { backend: engine.name, kernels: engine.variant ?? '-' };
          const slow = engine.name !== 'cpu';
          for (const s of shapes) {
            const r = await ui.wait(`${engine.name}: matmul ${s.label}`, () => benchMatmul(engine, s.m, s.n, s.k, { transA: s.transA, transB: s.transB, reps: slow ? 3 : 15 }));
            row[`gflops ${s.label}`] = Math.round(r.gflops * 100) / 100;
          }
          const t = await ui.wait(`${engine.name}: training steps`, () => measureTrainSpeed(engine, config, B, T, slow ? Math.min(2, f.steps) : f.steps, 1));
          row.train_chars_per_sec = Math.round(t.charsPerSec);
          row.ms_per_step = Math.round(t.msPerStepMedian);
          const sampleChars = slow ? 50 : 2000;
          const smp = await ui.wait(`${engine.name}: sampling, batch 1`, () => measureSampleSpeed(engine, config, { chars: sampleChars, repeats: slow ? 1 : 5 }));
          row.sample_chars_per_sec = Math.round(smp.charsPerSec);
          const ev = await ui.wait(`${engine.name}: eval`, () => measureEvalSpeed(engine, config, { chars: slow ? 2000 : 200_000, repeats: slow ? 1 : 3 }));
          row.eval_chars_per_sec = Math.round(ev.charsPerSec);
          rows.push(row);
          if (ui.json) jsonLine(row);
        } finally {
          engine.dispose();
        }
      }
      if (ui.json) return jsonLine({ type: 'summary', config, batch: B, seq: T, rows });
      printTable(rows);
    });
}

/** A backend's JSON line: a measured GPU backend with the shape it ran and its per-step counts. */
function statusLine(s: BackendStatus, shape: Record<string, unknown>): Record<string, unknown> {
  const { counts, ...rest } = s;
  return { type: 'backend', ...rest, ...(counts ? { shape, ...counts } : {}) };
}

function printStatuses(statuses: BackendStatus[]): void {
  for (const s of statuses) {
    const speed = s.charsPerSec ? `${fmtInt(Math.round(s.charsPerSec))} chars/s` : '';
    const state = s.works ? chalk.green('works') : chalk.yellow(`not available: ${s.reason ?? 'unknown reason'}`);
    const c = s.counts;
    const counted = c ? `  per step: ${fmtCount(c.launches_per_step)} launches, ${fmtCount(c.uploads_per_step)} uploads, ${fmtCount(c.blocking_downloads_per_step)} blocking downloads` : '';
    stdout.write(`${s.backend.padEnd(13)} ${state}${speed ? `  ${speed}` : ''}${counted}\n`);
  }
  stdout.write("\n");
}

const fmtCount = (x: number): string => (Number.isInteger(x) ? fmtInt(x) : x.toFixed(1));

function parseList(s: string): BackendName[] {
  const known = BACKENDS.filter((b) => b !== 'auto');
  const list = s.split(',').map((x) => x.trim()).filter(Boolean);
  if (list.length === 0) throw new UserError(`--backends "${s}" names no backend; use some of: ${known.join(', ')}`);
  return list.map((b) => {
    const name = backendName(b);
    if (!name || name === 'auto') throw new UserError(`--backends: unknown backend "${b}"; use some of: ${known.join(', ')}`);
    return name;
  });
}

function printTable(rows: Record<string, unknown>[]): void {
  if (!rows.length) return;
  const cols = Object.keys(rows[0]);
  const cell = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? fmtInt(v) : v.toFixed(2)) : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  stdout.write(chalk.bold(line(cols)) + '\n');
  for (const r of rows) stdout.write(line(cols.map((c) => cell(r[c]))) + '\n');
}
