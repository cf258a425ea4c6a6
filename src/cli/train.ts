// `charnn train`: flags, resume reconciliation, then a training session.
import path from 'node:path';
import type { Command } from 'commander';
import { BACKENDS, type BackendName } from '../engine/select.js';
import { UserError } from '../errors.js';
import { CELLS, type Cell, type ModelConfig } from '../model/config.js';
import { loadModel } from '../model/store.js';
import type { ModelFile } from '../model/serialize.js';
import { BATCHING, type Batching } from '../train/batch.js';
import { SIZED_CELLS } from '../train/autosize.js';
import { choice, duration, float, int } from './parse.js';
import { runTraining } from './train-session.js';

export interface TrainFlags {
  model: Cell; layers: number; hidden: number; embed: number; mlp: number;
  batch: number; seq: number; batching: Batching; steps?: number; time?: number;
  lr: number; minLr?: number; warmup: number; clip: number; weightDecay: number; dropout: number;
  seed: number; evalEvery: number; evalChars: number; patience: number; valFrac: number; val?: string;
  out?: string; saveEvery: number; stopAfter?: number; resume?: string; log?: string;
  backend: BackendName; threads?: number; json?: boolean;
  /** Set when no size or optimizer flag was given and the budget is time: pick them for it. */
  autosize?: boolean;
}

/** Any of these given means the user sizes the model; --model alone only picks the family. */
const SIZE_FLAGS: (keyof TrainFlags)[] = ['layers', 'hidden', 'embed', 'mlp', 'batch', 'seq', 'lr', 'dropout'];

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a character-level model on a UTF-8 text file (default: the embedded Brown corpus)')
    .argument('[corpus]', 'UTF-8 text file to train on; the last --val-frac of it validates')
    .option('--model <cell>', `recurrent cell: ${CELLS.join(', ')}`, choice(CELLS), 'lstm')
    .option('--layers <n>', 'stacked recurrent layers', int(1, 64), 2)
    .option('--hidden <n>', 'hidden units per layer', int(1, 8192), 256)
    .option('--embed <n>', 'character embedding width', int(1, 4096), 64)
    .option('--mlp <n>', 'MLP expansion in each mingru/minlstm block (0: none)', int(0, 16), 2)
    .option('--batch <n>', 'sequences per step', int(1, 4096), 32)
    .option('--seq <n>', 'characters per sequence (backpropagation length)', int(1, 100000), 128)
    .option('--batching <kind>', 'random windows, or contiguous streams with the state carried (truncated BPTT)', choice(BATCHING), 'stream')
    .option('--steps <n>', 'training steps in all, counting those before a resume', int(1))
    .option('--time <duration>', 'training-time budget such as 90s or 10m, evaluations not counted (default: 10m unless --steps is given)', duration)
    .option('--lr <rate>', 'peak learning rate', float(0, 10, { minExclusive: true }), 3e-3)
    .option('--min-lr <rate>', 'learning rate at the end of the cosine decay (default: lr/10)', float(0, 10))
    .option('--warmup <steps>', 'linear warm-up steps', int(0), 50)
    .option('--clip <norm>', 'clip the gradient norm to this (0: off)', float(0, 1e9), 1)
    .option('--weight-decay <w>', 'AdamW weight decay, on matrices only', float(0, 10), 0.1)
    .option('--dropout <p>', 'dropout probability on each layer\'s output during training', float(0, 0.95), 0)
    .option('--seed <n>', 'random seed (same seed, same backend: same model)', int(0, 2 ** 32 - 1), 1337)
    .option('--eval-every <steps>', 'steps between validation estimates', int(1), 100)
    .option('--eval-chars <n>', 'validation characters used by each estimate', int(2), 32768)
    .option('--patience <n>', 'stop after this many estimates without improvement (0: never)', int(0), 0)
    .option('--val-frac <f>', 'fraction of the corpus (its end) used for validation', float(0, 0.5, { minExclusive: true }), 0.1)
    .option('--val <file>', 'separate validation file (then the whole corpus trains)')
    .option('--out <file>', 'best checkpoint (default: checkpoints/<corpus name>.ckpt); the latest state goes beside it as <name>.latest.ckpt')
    .option('--save-every <steps>', 'save the latest state every this many steps (0: only at the end or when stopped)', int(0), 500)
    .option('--stop-after <steps>', 'end this run after this many steps, saving the latest state to resume from', int(1))
    .option('--resume <checkpoint>', 'continue a run exactly where a checkpoint left it')
    .option('--log <file.jsonl>', 'append one JSON line per step and per evaluation to this file')
    .option('--backend <name>', `compute backend: ${BACKENDS.join(', ')}`, choice(BACKENDS), 'auto')
    .option('--threads <n>', 'worker threads for the simd backend (default: all cores)', int(1, 256))
    .option('--json', 'one JSON object per line on stdout instead of the progress display')
    .addHelpText('after', `
Example:
  charnn train corpora/tinyshakespeare.txt --model lstm --layers 2 --hidden 128 --embed 64 \\
      --batch 32 --seq 64 --steps 300 --out checkpoints/shakespeare.ckpt
  charnn train --resume checkpoints/shakespeare.latest.ckpt --steps 600`)
    .action(async (corpus: string | undefined, f: TrainFlags, cmd: Command) => {
      const given = (name: keyof TrainFlags) => cmd.getOptionValueSource(name) === 'cli';
      if (f.resume) {
        const file = await loadModel(f.resume);
        const { flags, changes } = reconcile(f, file, given);
        return runTraining(corpus ?? file.training.corpus, flags, { file, changes });
      }
      if (f.steps === undefined && f.time === undefined) f.time = 600;
      f.autosize = f.steps === undefined && !SIZE_FLAGS.some(given);
      if (f.autosize && !given('model')) f.model = 'gru';
      if (!SIZED_CELLS.includes(f.model)) f.autosize = false;
      return runTraining(corpus, f, undefined);
    });
}

/** Architecture and data-layout flags must match the checkpoint; the rest may change. */
function reconcile(f: TrainFlags, file: ModelFile, given: (name: keyof TrainFlags) => boolean): { flags: TrainFlags; changes: string[] } {
  const ck = f.resume!, t = file.training;
  if (!file.m || !file.v) throw new UserError(`${ck} holds no optimizer state, so it cannot be resumed; train a new model instead`);
  const fixed: [keyof TrainFlags, keyof ModelConfig | null, unknown][] = [
    ['model', 'cell', file.config.cell], ['layers', 'layers', file.config.layers], ['hidden', 'hidden', file.config.hidden],
    ['embed', 'embed', file.config.embed], ['mlp', 'mlp', file.config.mlp ?? 0], ['batch', null, t.batch], ['seq', null, t.seq], ['batching', null, t.batching ?? 'random'],
    ['valFrac', null, t.val_frac ?? 0.1], ['val', null, t.val_file ?? undefined],
  ];
  const merged = { ...f } as Record<string, unknown>;
  for (const [flag, , value] of fixed) {
    if (given(flag) && f[flag] !== value) {
      throw new UserError(`--${kebab(flag)} ${f[flag]} contradicts ${ck}, which was trained with ${value}; leave the flag out to resume`);
    }
    merged[flag] = value;
  }
  // Settings that may change: the checkpoint's unless given now.
  const mutable: [keyof TrainFlags, unknown][] = [
    ['lr', t.lr], ['minLr', t.min_lr], ['warmup', t.warmup], ['clip', t.clip], ['weightDecay', t.weight_decay], ['dropout', t.dropout],
    ['steps', t.planned_steps ?? undefined], ['time', t.planned_seconds ?? undefined], ['evalEvery', t.eval_every],
    ['evalChars', t.eval_chars], ['patience', t.patience], ['saveEvery', t.save_every],
  ];
  const changes: string[] = [];
  for (const [flag, value] of mutable) {
    if (!given(flag) && value !== undefined && value !== null) merged[flag] = value;
    else if (given(flag) && f[flag] !== value) changes.push(`--${kebab(flag)} ${f[flag]} (was ${value ?? 'unset'})`);
  }
  // A budget given now replaces the planned one entirely.
  if (given('steps') && !given('time')) merged.time = undefined;
  if (given('time') && !given('steps')) merged.steps = undefined;
  merged.seed = t.seed;
  // Bit-exact continuation needs the same backend and thread count, so they are the default.
  if (!given('backend') && (BACKENDS as readonly string[]).includes(t.backend)) merged.backend = t.backend;
  if (!given('threads') && typeof t.threads === 'number') merged.threads = t.threads;
  merged.out = f.out ?? (ck.endsWith('.latest.ckpt') ? ck.slice(0, -'.latest.ckpt'.length) + '.ckpt' : ck);
  return { flags: merged as unknown as TrainFlags, changes };
}

export const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

export function defaultOut(corpus: string): string {
  const name = path.basename(corpus).replace(/\.[^.]*$/, '') || 'model';
  return path.join('checkpoints', `${name}.ckpt`);
}
