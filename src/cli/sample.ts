// `charnn sample`: stream generated text to stdout.
import chalk from 'chalk';
import type { Command } from 'commander';
import { BACKENDS, type BackendName } from '../engine/select.js';
import { sample } from '../sample/sample.js';
import { openModel } from './open.js';
import { choice, float, int } from './parse.js';
import { jsonLine, makeUi } from './ui.js';

interface SampleFlags {
  prime: string; length: number; temperature: number; topK?: number; topP?: number; greedy?: boolean;
  seed: number; backend: BackendName; threads?: number; json?: boolean;
}

export function registerSample(program: Command): void {
  program
    .command('sample')
    .description('generate text from a checkpoint, streamed to stdout as it is produced')
    .argument('<checkpoint>', '.ckpt file written by charnn train')
    .option('--prime <text>', 'text the generation continues (characters the model lacks are skipped)', '')
    .option('--length <n>', 'characters to generate', int(0, 1e9), 500)
    .option('--temperature <t>', 'sampling temperature; lower is more conservative', float(0, 100, { minExclusive: true }), 1)
    .option('--top-k <k>', 'sample only among the k most likely characters', int(1))
    .option('--top-p <p>', 'sample only from the smallest set of characters with total probability p', float(0, 1, { minExclusive: true }))
    .option('--greedy', 'always take the most likely character')
    .option('--seed <n>', 'random seed (same seed: same text)', int(0, 2 ** 32 - 1), 42)
    .option('--backend <name>', `compute backend: ${BACKENDS.join(', ')}`, choice(BACKENDS), 'auto')
    .option('--threads <n>', 'worker threads for the simd backend', int(1, 256))
    .option('--json', 'print one JSON object with the text instead of streaming it')
    .addHelpText('after', `
Example:
  charnn sample checkpoints/shakespeare.ckpt --prime "ROMEO:" --length 400 --temperature 0.8 --seed 7`)
    .action(async (ckpt: string, f: SampleFlags) => {
      const ui = makeUi(!!f.json);
      const { file, engine, weights } = await openModel(ui, ckpt, f.backend, f.threads);
      try {
        const r = await sample(weights, file.vocab, {
          prime: f.prime, length: f.length, temperature: f.temperature, topK: f.topK, topP: f.topP, greedy: f.greedy, seed: f.seed,
          onText: ui.json ? undefined : (_s, t) => process.stdout.write(t),
        });
        if (ui.json) {
          jsonLine({ text: r.text, chars: f.length, seconds: r.seconds, chars_per_sec: f.length / r.seconds, skipped_prime_chars: r.skipped.length });
        } else {
          process.stdout.write('\n');
          if (r.skipped.length) ui.note(chalk.yellow(`--prime: skipped ${r.skipped.length} characters not in the model's vocabulary: ${JSON.stringify(r.skipped.join(''))}`));
        }
      } finally {
        engine.dispose();
      }
    });
}
