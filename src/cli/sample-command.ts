// `charnn sample`: text generated from a checkpoint, written as it is produced. One sample streams
// to stdout (or --output); --count N samples run side by side as one batch and are printed one
// after the other, each under a header. A reader that goes away (`| head`) ends sampling at once.
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { sample } from '../sample/sample.js';
import { makeTokenizer } from '../text/tokenizer.js';
import { readTextChunks } from '../text/utf8.js';
import { Coalescer } from './coalesce.js';
import { ENGINE_FLAGS, jsonFlag } from './common-flags.js';
import { errColor as c, stdout } from './io.js';
import { openModel } from './open.js';
import { addFlags, type FlagSpec } from './parse.js';
import { checkRunFiles } from './paths.js';
import { StopGuard } from './signals.js';
import { TextOutput } from './text-output.js';
import { fmtInt, jsonLine, makeUi } from './ui.js';
import { text as readAll } from 'node:stream/consumers';
import { STDIN } from './stdin.js';

interface SampleFlags {
  prime: string; primeFile?: string; length: number; temperature: number; topK?: number; topP?: number; greedy?: boolean;
  seed: number; count: number; stop?: string; output?: string; backend: string; threads?: number; json?: boolean;
}

const SAMPLE_FLAGS: FlagSpec[] = [
  { key: 'prime', flag: '--prime', arg: '<text>', kind: { type: 'text' }, default: '', help: 'text the generation continues (characters the model lacks are skipped)' },
  { key: 'primeFile', flag: '--prime-file', arg: '<file>', kind: { type: 'text' }, help: 'read the prime from a UTF-8 file instead (- for standard input)' },
  { key: 'length', flag: '--length', arg: '<n>', kind: { type: 'int', min: 0, max: 1e9 }, default: 500, help: 'characters to generate per sample' },
  { key: 'temperature', flag: '--temperature', arg: '<t>', kind: { type: 'float', min: 0, max: 100, minExclusive: true }, default: 1, help: 'sampling temperature; lower is more conservative' },
  { key: 'topK', flag: '--top-k', arg: '<k>', kind: { type: 'int', min: 1 }, help: 'sample only among the k most likely characters' },
  { key: 'topP', flag: '--top-p', arg: '<p>', kind: { type: 'float', min: 0, max: 1, minExclusive: true }, help: 'sample only from the smallest set of characters with total probability p' },
  { key: 'greedy', flag: '--greedy', kind: { type: 'switch' }, help: 'always take the most likely character' },
  { key: 'seed', flag: '--seed', arg: '<n>', kind: { type: 'int', min: 0, max: 2 ** 32 - 1 }, default: 42, help: 'random seed (same seed: same text; sample i of --count is the same whatever the count)' },
  { key: 'count', flag: '--count', arg: '<n>', kind: { type: 'int', min: 1, max: 4096 }, default: 1, help: 'independent samples, generated side by side as one batch' },
  { key: 'stop', flag: '--stop', arg: '<text>', kind: { type: 'text' }, help: 'end a sample once its text ends with this string' },
  { key: 'output', flag: '--output', arg: '<file>', kind: { type: 'text' }, help: 'write the text to this file instead of stdout (it appears whole when sampling ends)' },
  ...ENGINE_FLAGS,
  jsonFlag('print one JSON object with the text(s) instead of streaming'),
];

export function registerSample(program: Command): void {
  const cmd = program
    .command('sample')
    .description('generate text from a checkpoint, streamed to stdout as it is produced')
    .argument('<checkpoint>', '.ckpt file written by charnn train');
  addFlags(cmd, SAMPLE_FLAGS)
    .addHelpText('after', `
Examples:
  charnn sample checkpoints/shakespeare.ckpt --prime "ROMEO:" --length 400 --temperature 0.8 --seed 7
  charnn sample checkpoints/shakespeare.ckpt --count 4 --stop $'\\n\\n' --length 2000`)
    .action(async (ckpt: string, f: SampleFlags) => {
      const ui = makeUi(!!f.json);
      if (f.primeFile && f.prime) throw new UserError('give --prime or --prime-file, not both');
      const inputs = [{ what: 'checkpoint', path: ckpt }, ...(f.primeFile && f.primeFile !== STDIN ? [{ what: '--prime-file', path: f.primeFile }] : [])];
      await checkRunFiles(inputs, f.output ? [{ what: '--output', path: f.output }] : []);
      const prime = f.primeFile ? await readPrime(f.primeFile) : f.prime;
      const { file, engine, weights } = await openModel(ui, ckpt, f.backend, f.threads);
      let sink: TextOutput | null = null;
      // A signal while writing --output exits at once, and StopGuard removes the temporary file
      // on its way out: the previous output stays as it was.
      const guard = f.output ? new StopGuard(() => {}, { quitAt: 1 }) : null;
      const out = new Coalescer((text) => (sink ? sink.write(text) : stdout.write(text)));
      const write = (text: string) => out.write(text);
      const live = f.count === 1 && !ui.json;
      try {
        if (f.output) sink = await TextOutput.open(f.output);
        const r = await sample(weights, makeTokenizer(file.tokenizer, file.vocab), {
          prime, length: f.length, temperature: f.temperature, topK: f.topK, topP: f.topP, greedy: f.greedy, seed: f.seed,
          count: f.count, stop: f.stop, keep: !live,
          onText: live ? (_s, t) => write(t) : undefined,
          shouldStop: () => (sink ? sink.failed : !stdout.ok),
        });
        if (ui.json) {
          const per = r.generated / Math.max(1, f.count);
          jsonLine({ text: r.text, ...(f.count > 1 ? { texts: r.texts } : {}), ended: r.ended, chars: per, seconds: r.seconds, chars_per_sec: r.generated / r.seconds, skipped_prime_chars: r.skipped.length });
        } else if (live) {
          write('\n');
        } else {
          r.texts.forEach((t, i) => write(`${i > 0 ? '\n' : ''}──── sample ${i + 1} of ${f.count} (seed ${f.seed}) ────\n${t}\n`));
        }
        out.flush();
        sink?.commit();
        if (r.skipped.length) ui.note(c.yellow(`${f.primeFile ? '--prime-file' : '--prime'}: ${skippedNote(r.skipped)}`));
      } finally {
        out.flush();
        sink?.abandon();
        guard?.dispose();
        engine.dispose();
      }
    });
}

// Checked as a corpus is: a binary, UTF-16 or otherwise non-UTF-8 file is refused in one line.
async function readPrime(file: string): Promise<string> {
  let text = '';
  try {
    if (file === STDIN) return (await readAll(process.stdin)).replace(/^\uFEFF/, '');
    for await (const piece of readTextChunks(file)) text += piece;
  } catch (e) {
    throw e instanceof UserError ? new UserError(`--prime-file: ${e.message}`) : e;
  }
  return text;
}

const SHOWN = 20;

/** The skipped characters counted, and the first few distinct ones shown: never a line of megabytes. */
function skippedNote(skipped: string[]): string {
  const distinct = [...new Set(skipped)];
  const more = distinct.length - SHOWN;
  return `skipped ${fmtInt(skipped.length)} characters not in the model's vocabulary: ${JSON.stringify(distinct.slice(0, SHOWN).join(''))}` +
    (more > 0 ? ` and ${fmtInt(more)} more distinct` : '');
}
