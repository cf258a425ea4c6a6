// `charnn bench --speed`: matrix-product GFLOP/s at the training config's own shapes and training
// chars/s, for every backend that runs here, measured on the spot (medians).
import chalk from 'chalk';
import type { Command } from 'commander';
import { benchMatmul } from '../engine/bench.js';
import { listBackends, type BackendStatus } from '../engine/auto.js';
import { createEngine, type BackendName } from '../engine/select.js';
import { CELLS, validateConfig, type Cell } from '../model/config.js';
import { measureTrainSpeed } from '../train/throughput.js';
import { UserError } from '../errors.js';
import { choice, int } from './parse.js';
import { fmtInt, jsonLine, makeUi } from './ui.js';

interface BenchFlags {
  speed?: boolean; model: Cell; layers: number; hidden: number; embed: number; mlp: number; batch: number; seq: number;
  vocab: number; steps: number; backends?: string; threads?: number; json?: boolean;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure backends on this machine')
    .option('--speed', 'matrix-product GFLOP/s and training chars/s for every backend that runs here')
    .option('--model <cell>', 'cell of the benchmarked model', choice(CELLS), 'lstm')
    .option('--layers <n>', 'layers', int(1, 64), 2)
    .option('--hidden <n>', 'hidden units', int(1, 8192), 256)
    .option('--embed <n>', 'embedding width', int(1, 4096), 64)
    .option('--mlp <n>', 'MLP expansion of mingru/minlstm blocks', int(0, 16), 2)
    .option('--batch <n>', 'sequences per step', int(1, 4096), 32)
    .option('--seq <n>', 'characters per sequence', int(1, 100000), 128)
    .option('--vocab <n>', 'vocabulary size (tinyshakespeare has 65)', int(2, 1 << 20), 65)
    .option('--steps <n>', 'timed training steps per backend (after one warm-up step)', int(1, 1000), 5)
    .option('--backends <list>', 'comma-separated backends to measure (default: all that run here)')
    .option('--threads <n>', 'worker threads for the simd backend', int(1, 256))
    .option('--json', 'one JSON object per backend, then a summary line')
    .addHelpText('after', `
Example:
  charnn bench --speed --hidden 256 --batch 32 --seq 128`)
    .action(async (f: BenchFlags) => {
      if (!f.speed) throw new UserError('bench needs --speed (the only benchmark so far); see charnn bench --help');
      const ui = makeUi(!!f.json);
      const config = validateConfig({ cell: f.model, vocab: f.vocab, embed: f.embed, hidden: f.hidden, layers: f.layers, mlp: f.mlp });
      // Every backend, each in its own process (a GPU driver crash, or two GL stacks in one
      // process, must not end the benchmark): works or why not, and training chars/s.
      const statuses = await ui.wait('Probing every backend', () => listBackends({ config, batch: f.batch, seq: f.seq, steps: 2 }, { threads: f.threads }));
      if (ui.json) for (const s of statuses) jsonLine({ type: 'backend', ...s });
      else printStatuses(statuses);
      // The detailed in-process table: simd unless --backends names others.
      const backends = f.backends ? parseList(f.backends) : (['simd'] as BackendName[]);
      const B = f.batch, T = f.seq, H = f.hidden, G = 4 * H;
      const shapes = [
        { label: `${B}x${G}x${H} step`, m: B, n: G, k: H },
        { label: `${B * T}x${G}x${H}`, m: B * T, n: G, k: H },
        { label: `${H}x${G}x${B * T} At`, m: H, n: G, k: B * T, transA: true },
        { label: `${B * T}x${H}x${G} Bt`, m: B * T, n: H, k: G, transB: true },
      ];
      const rows: Record<string, unknown>[] = [];
      for (const name of backends) {
        const { engine } = await createEngine(name, { threads: f.threads });
        try {
          const row: Record<string, unknown> = { backend: engine.name };
          const slow = engine.name !== 'simd';
          for (const s of shapes) {
            const r = await ui.wait(`${engine.name}: matmul ${s.label}`, () => benchMatmul(engine, s.m, s.n, s.k, { transA: s.transA, transB: s.transB, reps: slow ? 3 : 15 }));
            row[`gflops ${s.label}`] = Math.round(r.gflops * 100) / 100;
          }
          const t = await ui.wait(`${engine.name}: training steps`, () => measureTrainSpeed(engine, config, B, T, slow ? Math.min(2, f.steps) : f.steps, 1));
          row.train_chars_per_sec = Math.round(t.charsPerSec);
          row.ms_per_step = Math.round(t.msPerStepMedian);
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

function printStatuses(statuses: BackendStatus[]): void {
  for (const s of statuses) {
    const speed = s.charsPerSec ? `${fmtInt(Math.round(s.charsPerSec))} chars/s` : '';
    const state = s.works ? chalk.green('works') : chalk.yellow(`not available: ${s.reason ?? 'unknown reason'}`);
    process.stdout.write(`${s.backend.padEnd(11)} ${state}${speed ? `  ${speed}` : ''}\n`);
  }
  process.stdout.write('\n');
}

function parseList(s: string): BackendName[] {
  const known = ['simd', 'cpu', 'webasm', 'headlessgl', 'webgpu', 'js'];
  const list = s.split(',').map((x) => x.trim()).filter(Boolean);
  for (const b of list) if (!known.includes(b)) throw new UserError(`--backends: unknown backend "${b}"; use some of: ${known.join(', ')}`);
  return list as BackendName[];
}

function printTable(rows: Record<string, unknown>[]): void {
  if (!rows.length) return;
  const cols = Object.keys(rows[0]);
  const cell = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? fmtInt(v) : v.toFixed(2)) : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  process.stdout.write(chalk.bold(line(cols)) + '\n');
  for (const r of rows) process.stdout.write(line(cols.map((c) => cell(r[c]))) + '\n');
}
