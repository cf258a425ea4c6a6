// `charnn eval`: nats/char, bits/char and perplexity of a checkpoint on a text file.
import chalk from 'chalk';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { BACKENDS, type BackendName } from '../engine/select.js';
import { evaluateChunks } from '../eval/evaluate.js';
import { streamEncoded, type EncodeStats } from '../text/index.js';
import { openModel } from './open.js';
import { choice, int } from './parse.js';
import { fmt, fmtInt, jsonLine, makeUi } from './ui.js';

interface EvalFlags { seq: number; backend: BackendName; threads?: number; json?: boolean }

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('measure how well a checkpoint predicts a text file (every character scored once, state carried through the file)')
    .argument('<checkpoint>', '.ckpt file written by charnn train')
    .argument('<file>', 'UTF-8 text file to score')
    .option('--seq <n>', 'characters per chunk (does not change the result, only speed)', int(1, 100000), 256)
    .option('--backend <name>', `compute backend: ${BACKENDS.join(', ')}`, choice(BACKENDS), 'auto')
    .option('--threads <n>', 'worker threads for the simd backend', int(1, 256))
    .option('--json', 'print one JSON object')
    .addHelpText('after', `
Example:
  charnn eval checkpoints/shakespeare.ckpt corpora/tinyshakespeare.txt`)
    .action(async (ckpt: string, file: string, f: EvalFlags) => {
      const ui = makeUi(!!f.json);
      const { file: model, engine, weights } = await openModel(ui, ckpt, f.backend, f.threads);
      try {
        const stats: EncodeStats = { chars: 0, unknown: 0, unknownChars: new Map() };
        const r = await ui.wait(`Scoring ${file}`, () => evaluateChunks(weights, streamEncoded(file, model.vocab, 1 << 16, stats), { seq: f.seq }));
        if (r.chars === 0) throw new UserError(`${file} has fewer than 2 characters the model knows; nothing to score`);
        const nats = r.nats / r.chars;
        const out = { chars: r.chars, nats_per_char: nats, bits_per_char: nats / Math.LN2, perplexity: Math.exp(nats), chars_per_sec: r.chars / r.seconds, unknown_chars_skipped: stats.unknown };
        if (ui.json) {
          jsonLine(out);
        } else {
          process.stdout.write(
            `${chalk.bold(file)}: ${fmtInt(out.chars)} characters scored\n` +
              `  ${chalk.green(fmt(out.nats_per_char))} nats/char   ${chalk.green(fmt(out.bits_per_char))} bits/char   perplexity ${chalk.green(fmt(out.perplexity, 3))}\n` +
              `  ${fmtInt(out.chars_per_sec)} chars/s on ${engine.name}\n`,
          );
          if (stats.unknown) ui.note(chalk.yellow(`skipped ${stats.unknown} characters not in the model's vocabulary (not fed, not scored)`));
        }
      } finally {
        engine.dispose();
      }
    });
}
