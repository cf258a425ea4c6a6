// `charnn eval`: nats, bits and perplexity per character (per byte for a byte model) of a
// checkpoint on a text file or a catalogue corpus, with a progress bar (progress lines with
// --json); Ctrl-C prints the result over what was scored so far.
import { type Engine, engineLabel } from '../engine/engine-api.js';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { DEFAULT_BURN_IN, DEFAULT_STREAMS, describeSegmentation, evaluateFile, type EvalResult } from '../eval/evaluate.js';
import { resolveCorpus } from '../text/corpora.js';
import { makeTokenizer } from '../text/tokenizer.js';
import { byteOfChar } from '../text/utf8.js';
import { TRAIN_SETTINGS } from '../model/settings.js';
import { ENGINE_FLAGS, jsonFlag } from './common-flags.js';
import { errColor, outColor as c, stdout } from './io.js';
import { openModel } from './open.js';
import { addFlags, pick, type FlagSpec } from './parse.js';
import { ScoreProgress } from './progress.js';
import { StopGuard } from './signals.js';
import { fmt, fmtInt, jsonLine, makeUi, type Ui } from './ui.js';

interface EvalFlags { streams: number; burnIn: number; seq?: number; split: 'val' | 'test'; corpusDir?: string; backend: string; threads?: number; json?: boolean }

export const EVAL_FLAGS: FlagSpec[] = [
  { key: 'streams', flag: '--streams', arg: '<n>', kind: { type: 'int', min: 1, max: 4096 }, default: DEFAULT_STREAMS, help: 'segments of the file scored side by side (1: one exact stream over the whole file)' },
  { key: 'burnIn', flag: '--burn-in', arg: '<n>', kind: { type: 'int', min: 1, max: 1 << 20 }, default: DEFAULT_BURN_IN, help: 'characters fed, not scored, before each segment after the first, to warm its state' },
  { key: 'seq', flag: '--seq', arg: '<n>', kind: { type: 'int', min: 1, max: 100000 }, help: 'characters per chunk per stream (speed and memory only, not the result; default: 4096 positions per chunk in all)' },
  { key: 'split', flag: '--split', arg: '<part>', kind: { type: 'choice', values: ['val', 'test'] }, help: 'for a catalogue corpus: the part scored (default: test where it has one, else val)' },
  pick(TRAIN_SETTINGS, 'corpusDir'),
  ...ENGINE_FLAGS,
  jsonFlag('print one JSON object (and progress lines on long runs)'),
];

export function registerEval(program: Command): void {
  const cmd = program
    .command('eval')
    .description('measure how well a checkpoint predicts a text file (every character scored once)')
    .argument('<checkpoint>', '.ckpt file written by charnn train')
    .argument('<file>', 'UTF-8 text file to score, or a catalogue corpus name (its validation or test part)');
  addFlags(cmd, EVAL_FLAGS)
    .addHelpText('after', `
Examples:
  charnn eval checkpoints/shakespeare.ckpt ../shared/corpora/tinyshakespeare.txt
  charnn eval checkpoints/shakespeare.ckpt tinyshakespeare --streams 1     # one exact stream over the validation split`)
    .action(async (ckpt: string, arg: string, f: EvalFlags) => {
      const ui = makeUi(!!f.json);
      const target = await resolveTarget(arg, f);
      const { file: model, engine, weights } = await openModel(ui, ckpt, f.backend, f.threads);
      const tok = makeTokenizer(model.tokenizer, model.vocab);
      // First Ctrl-C: stop after this chunk and report what was scored; a second exits at once.
      const stop = new AbortController();
      const guard = new StopGuard(() => stop.abort());
      const bar = ui.json ? null : new ScoreProgress(`scoring ${target.label}`, `${tok.unit}s`);
      let lastLine = performance.now();
      try {
        const r = await evaluateFile(weights, target.path, tok, {
          streams: f.streams, burnIn: f.burnIn, seq: f.seq, signal: stop.signal, range: target.range,
          onProgress: (p) => {
            bar?.update(p.done, p.total, p.chars);
            // JSON progress at a modest rate, and only for runs long enough to want it.
            if (ui.json && performance.now() - lastLine > 2000) {
              lastLine = performance.now();
              jsonLine({ type: 'progress', done: p.done, total: p.total, scored: p.chars });
            }
          },
        });
        bar?.stop();
        if (r.chars === 0) throw new UserError(`${target.label}: stopped before any character was scored`);
        report(r, target.label, tok.unit, engine, ui, guard.stopRequested);
        if (guard.stopRequested) process.exitCode = guard.exitCode;
      } finally {
        bar?.stop();
        guard.dispose();
        engine.dispose();
      }
    });
}

interface Target { path: string; label: string; range?: [number, number] }

/** A path, or a catalogue name: its test part where it has one (else validation), as a byte range. */
async function resolveTarget(arg: string, f: EvalFlags): Promise<Target> {
  const r = await resolveCorpus(arg, { corpusDir: f.corpusDir });
  if (!r.split) {
    if (f.split) throw new UserError(`--split needs a catalogue corpus; ${arg} is a file, scored whole`);
    return { path: r.path, label: r.path };
  }
  const part = f.split ?? (r.split.test ? 'test' : 'val');
  const range = part === 'test' ? r.split.test : r.split.val;
  if (!range) throw new UserError(`corpus ${r.name} has no test part; use --split val`);
  const bytes: [number, number] = r.split.unit === 'bytes' ? range : [await byteOfChar(r.path, range[0]), await byteOfChar(r.path, range[1])];
  return { path: r.path, label: `${r.name} (${part === 'test' ? 'test' : 'validation'} part)`, range: bytes };
}

function report(r: EvalResult, label: string, unit: 'char' | 'byte', engine: Engine, ui: Ui, partial: boolean): void {
  const nats = r.nats / r.chars;
  const out = {
    type: 'eval', file: label, unit, chars: r.chars, nats_per_char: nats, bits_per_char: nats / Math.LN2, perplexity: Math.exp(nats),
    chars_per_sec: r.chars / r.seconds, unknown_chars_skipped: r.unknown, partial,
    backend: engine.name, kernels: engine.variant ?? null, streams: r.segmentation.streams, burn_in: r.segmentation.burnIn, segmentation: describeSegmentation(r.segmentation, unit),
  };
  if (ui.json) return jsonLine(out);
  const u = unit === 'byte' ? 'byte' : 'char';
  stdout.write(
    `${c.bold(label)}: ${fmtInt(out.chars)} ${u}s scored${partial ? c.yellow(' (stopped early: a partial result over what was scored)') : ''}\n` +
      `  ${c.green(fmt(out.nats_per_char))} nats/${u}   ${c.green(fmt(out.bits_per_char))} bits/${u}   perplexity ${c.green(fmt(out.perplexity, 3))}\n` +
      `  ${fmtInt(out.chars_per_sec)} ${u}s/s on ${engineLabel(engine)}; ${out.segmentation}\n` +
      (unit === 'byte' ? '  a byte-level model: every figure is per byte of UTF-8\n' : ''),
  );
  if (r.unknown) ui.note(errColor.yellow(`skipped ${fmtInt(r.unknown)} characters not in the model's vocabulary (not fed, not scored)`));
}
