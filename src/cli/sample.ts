// `charnn sample`: stream generated text to stdout as it is produced. A reader that goes away
// (`| head`) ends sampling at once, quietly.
import type { Command } from 'commander';
import { sample } from '../sample/sample.js';
import { ENGINE_FLAGS, jsonFlag } from './common-flags.js';
import { errColor as c, stdout } from './io.js';
import { openModel } from './open.js';
import { addFlags, type FlagSpec } from './parse.js';
import { jsonLine, makeUi } from './ui.js';

interface SampleFlags {
  prime: string; length: number; temperature: number; topK?: number; topP?: number; greedy?: boolean;
  seed: number; backend: string; threads?: number; json?: boolean;
}

const SAMPLE_FLAGS: FlagSpec[] = [
  { key: 'prime', flag: '--prime', arg: '<text>', kind: { type: 'text' }, default: '', help: 'text the generation continues (characters the model lacks are skipped)' },
  { key: 'length', flag: '--length', arg: '<n>', kind: { type: 'int', min: 0, max: 1e9 }, default: 500, help: 'characters to generate' },
  { key: 'temperature', flag: '--temperature', arg: '<t>', kind: { type: 'float', min: 0, max: 100, minExclusive: true }, default: 1, help: 'sampling temperature; lower is more conservative' },
  { key: 'topK', flag: '--top-k', arg: '<k>', kind: { type: 'int', min: 1 }, help: 'sample only among the k most likely characters' },
  { key: 'topP', flag: '--top-p', arg: '<p>', kind: { type: 'float', min: 0, max: 1, minExclusive: true }, help: 'sample only from the smallest set of characters with total probability p' },
  { key: 'greedy', flag: '--greedy', kind: { type: 'switch' }, help: 'always take the most likely character' },
  { key: 'seed', flag: '--seed', arg: '<n>', kind: { type: 'int', min: 0, max: 2 ** 32 - 1 }, default: 42, help: 'random seed (same seed: same text)' },
  ...ENGINE_FLAGS,
  jsonFlag('print one JSON object with the text instead of streaming it'),
];

export function registerSample(program: Command): void {
  const cmd = program
    .command('sample')
    .description('generate text from a checkpoint, streamed to stdout as it is produced')
    .argument('<checkpoint>', '.ckpt file written by charnn train');
  addFlags(cmd, SAMPLE_FLAGS)
    .addHelpText('after', `
Example:
  charnn sample checkpoints/shakespeare.ckpt --prime "ROMEO:" --length 400 --temperature 0.8 --seed 7`)
    .action(async (ckpt: string, f: SampleFlags) => {
      const ui = makeUi(!!f.json);
      const { file, engine, weights } = await openModel(ui, ckpt, f.backend, f.threads);
      try {
        const r = await sample(weights, file.vocab, {
          prime: f.prime, length: f.length, temperature: f.temperature, topK: f.topK, topP: f.topP, greedy: f.greedy, seed: f.seed,
          onText: ui.json ? undefined : (t) => stdout.write(t),
          shouldStop: () => !stdout.ok,
        });
        if (ui.json) {
          jsonLine({ text: r.text, chars: f.length, seconds: r.seconds, chars_per_sec: f.length / r.seconds, skipped_prime_chars: r.skipped.length });
        } else {
          stdout.write('\n');
          if (r.skipped.length) ui.note(c.yellow(`--prime: skipped ${r.skipped.length} characters not in the model's vocabulary: ${JSON.stringify(r.skipped.join(''))}`));
        }
        await stdout.flush();
      } finally {
        engine.dispose();
      }
    });
}
