// `charnn eval`: nats/char, bits/char and perplexity of a checkpoint on a text file.
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { evaluateChunks } from '../eval/evaluate.js';
import { streamEncoded, type EncodeStats } from '../text/index.js';
import { ENGINE_FLAGS, jsonFlag } from './common-flags.js';
import { errColor, outColor as c, stdout } from './io.js';
import { openModel } from './open.js';
import { addFlags, type FlagSpec } from './parse.js';
import { fmt, fmtInt, jsonLine, makeUi } from './ui.js';

interface EvalFlags { seq: number; backend: string; threads?: number; json?: boolean }

const EVAL_FLAGS: FlagSpec[] = [
  { key: 'seq', flag: '--seq', arg: '<n>', kind: { type: 'int', min: 1, max: 100000 }, default: 256, help: 'characters per chunk (does not change the result, only speed)' },
  ...ENGINE_FLAGS,
  jsonFlag('print one JSON object'),
];

export function registerEval(program: Command): void {
  const cmd = program
    .command('eval')
    .description('measure how well a checkpoint predicts a text file (every character scored once, state carried through the file)')
    .argument('<checkpoint>', '.ckpt file written by charnn train')
    .argument('<file>', 'UTF-8 text file to score');
  addFlags(cmd, EVAL_FLAGS)
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
          stdout.write(
            `${c.bold(file)}: ${fmtInt(out.chars)} characters scored\n` +
              `  ${c.green(fmt(out.nats_per_char))} nats/char   ${c.green(fmt(out.bits_per_char))} bits/char   perplexity ${c.green(fmt(out.perplexity, 3))}\n` +
              `  ${fmtInt(out.chars_per_sec)} chars/s on ${engine.name}\n`,
          );
          if (stats.unknown) ui.note(errColor.yellow(`skipped ${stats.unknown} characters not in the model's vocabulary (not fed, not scored)`));
        }
      } finally {
        engine.dispose();
      }
    });
}
