// `charnn train`: read the corpus, split it, train, keep the best checkpoint, print a summary.
import path from 'node:path';
import chalk from 'chalk';
import ora, { type Ora } from 'ora';
import type { Command } from 'commander';
import { createEngine, BACKENDS, type BackendName } from '../engine/select.js';
import { CELLS, validateConfig, type Cell } from '../model/config.js';
import { saveModel } from '../model/store.js';
import { ensureBrownCorpus, readCorpus, splitIds, type IdArray } from '../text/index.js';
import { train, type TrainEvent } from '../train/loop.js';
import { checkWritableFolder } from './files.js';
import { choice, duration, float, int } from './parse.js';
import { TrainProgress } from './progress.js';
import { fmt, fmtInt, jsonLine, makeUi } from './ui.js';

interface TrainFlags {
  model: Cell; layers: number; hidden: number; embed: number;
  batch: number; seq: number; steps?: number; time?: number;
  lr: number; minLr?: number; warmup: number; clip: number; weightDecay: number;
  seed: number; evalEvery: number; evalChars: number; valFrac: number; val?: string;
  out?: string; backend: BackendName; threads?: number; json?: boolean;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a character-level model on a UTF-8 text file (default: the embedded Brown corpus)')
    .argument('[corpus]', 'UTF-8 text file to train on; the last --val-frac of it validates')
    .option('--model <cell>', `recurrent cell: ${CELLS.join(', ')}`, choice(CELLS), 'lstm')
    .option('--layers <n>', 'stacked recurrent layers', int(1, 64), 2)
    .option('--hidden <n>', 'hidden units per layer', int(1, 8192), 256)
    .option('--embed <n>', 'character embedding width', int(1, 4096), 64)
    .option('--batch <n>', 'sequences per step', int(1, 4096), 32)
    .option('--seq <n>', 'characters per sequence (backpropagation length)', int(1, 100000), 128)
    .option('--steps <n>', 'training steps (default: until --time runs out, or 1000)', int(1))
    .option('--time <duration>', 'training-time budget such as 90s or 10m (evaluations not counted)', duration)
    .option('--lr <rate>', 'peak learning rate', float(0, 10, { minExclusive: true }), 3e-3)
    .option('--min-lr <rate>', 'learning rate at the end of the cosine decay (default: lr/10)', float(0, 10))
    .option('--warmup <steps>', 'linear warm-up steps', int(0), 50)
    .option('--clip <norm>', 'clip the gradient norm to this (0: off)', float(0, 1e9), 1)
    .option('--weight-decay <w>', 'AdamW weight decay, on matrices only', float(0, 10), 0.1)
    .option('--seed <n>', 'random seed (same seed, same backend: same model)', int(0, 2 ** 32 - 1), 1337)
    .option('--eval-every <steps>', 'steps between validation estimates', int(1), 100)
    .option('--eval-chars <n>', 'validation characters used by each estimate', int(2), 32768)
    .option('--val-frac <f>', 'fraction of the corpus (its end) used for validation', float(0, 0.5, { minExclusive: true }), 0.1)
    .option('--val <file>', 'separate validation file (then the whole corpus trains)')
    .option('--out <file>', 'checkpoint path (default: checkpoints/<corpus name>.ckpt)')
    .option('--backend <name>', `compute backend: ${BACKENDS.join(', ')}`, choice(BACKENDS), 'auto')
    .option('--threads <n>', 'worker threads for the simd backend (default: all cores)', int(1, 256))
    .option('--json', 'one JSON object per line on stdout instead of the progress display')
    .addHelpText('after', `
Example:
  charnn train corpora/tinyshakespeare.txt --model lstm --layers 2 --hidden 128 --embed 64 \\
      --batch 32 --seq 64 --steps 300 --out checkpoints/shakespeare.ckpt`)
    .action(async (corpus: string | undefined, flags: TrainFlags) => runTrain(corpus, flags));
}

async function runTrain(corpusArg: string | undefined, f: TrainFlags): Promise<void> {
  const ui = makeUi(!!f.json);
  const corpus = corpusArg ?? (await ui.wait('Preparing the embedded Brown corpus', ensureBrownCorpus));
  const name = path.basename(corpus).replace(/\.[^.]*$/, '') || 'model';
  const out = f.out ?? path.join('checkpoints', `${name}.ckpt`);
  await checkWritableFolder(out, '--out');

  const text = await ui.wait(`Reading ${corpus}`, () => readCorpus(corpus));
  let trainIds: IdArray, valIds: IdArray;
  if (f.val) {
    const val = await ui.wait(`Reading ${f.val}`, () => readCorpus(f.val!, { vocab: text.vocab }));
    if (val.unknown > 0) ui.note(chalk.yellow(`${f.val}: skipped ${val.unknown} characters that ${corpus} does not contain`));
    trainIds = text.ids;
    valIds = val.ids;
  } else {
    ({ train: trainIds, val: valIds } = splitIds(text.ids, f.valFrac, corpus));
  }
  const config = validateConfig({ cell: f.model, vocab: text.vocab.size, embed: f.embed, hidden: f.hidden, layers: f.layers });
  const steps = f.steps ?? (f.time === undefined ? 1000 : undefined);
  const { engine, reason } = await ui.wait(`Starting the ${f.backend} backend`, () => createEngine(f.backend, { threads: f.threads }));
  if (f.backend === 'auto') ui.note(`backend: ${chalk.bold(engine.name)} (${reason})`);

  const progress = ui.json ? null : new TrainProgress(steps !== undefined ? `${steps} steps` : `${f.time}s budget`);
  let finalSpinner: Ora | null = null;
  const onEvent = (ev: TrainEvent) => {
    if (ui.json) {
      jsonLine(ev.type === 'step' ? { ...ev, loss: round(ev.loss), charsPerSec: Math.round(ev.charsPerSec) } : ev);
      return;
    }
    if (ev.type === 'final-eval') {
      if (!finalSpinner) {
        progress!.stop();
        finalSpinner = ora({ stream: process.stderr, isEnabled: process.stderr.isTTY }).start();
      }
      finalSpinner.text = `Scoring the whole validation split: ${Math.floor((100 * ev.chars) / Math.max(1, ev.total))}%`;
    } else {
      progress!.onEvent(ev);
    }
  };
  try {
    const s = await train({
      engine, config, vocab: text.vocab, train: trainIds, val: valIds, corpus,
      batch: f.batch, seq: f.seq, lr: f.lr, minLr: f.minLr ?? f.lr / 10, warmup: f.warmup, clip: f.clip,
      weightDecay: f.weightDecay, steps, seconds: f.time, seed: f.seed, evalEvery: f.evalEvery, evalChars: f.evalChars,
      out, save: saveModel, onEvent,
    });
    progress?.stop();
    (finalSpinner as Ora | null)?.stop();
    if (ui.json) {
      jsonLine({ type: 'summary', ...s, train_loss: round(s.train_loss), val_loss: round(s.val_loss), val_bpc: round(s.val_bpc), chars_per_sec: Math.round(s.chars_per_sec) });
    } else {
      process.stderr.write(
        `${chalk.bold('trained')} ${s.steps} steps of a ${fmtInt(s.params)}-parameter ${config.cell} on ${chalk.bold(s.backend)} in ${s.seconds.toFixed(1)} s (${fmtInt(s.chars_per_sec)} chars/s)\n` +
          `train loss ${fmt(s.train_loss)}  ${chalk.green(`validation loss ${fmt(s.val_loss)} nats/char (${fmt(s.val_bpc)} bits/char)`)}\n` +
          `checkpoint ${chalk.cyan(s.checkpoint)}\n`,
      );
    }
  } finally {
    progress?.stop();
    engine.dispose();
  }
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
