// `charnn eval`: nats, bits and perplexity per character (per byte for a byte model) of a
// checkpoint on text files, folders, standard input or a catalogue corpus, with a progress bar
// (progress lines with --json); --per-line / --per-doc add a record per line or document,
// --dynamic a column for dynamic evaluation beside the static one. Ctrl-C prints the result over
// what was scored so far.
import os from 'node:os';
import type { Command } from 'commander';
import { type Engine, engineLabel } from '../engine/engine-api.js';
import { UserError } from '../errors.js';
import { DYNAMIC_DEFAULTS, DYNAMIC_RULES, evaluateDynamic, trainingMeanSquares, type DynamicRule } from '../eval/dynamic.js';
import { DEFAULT_BURN_IN, DEFAULT_STREAMS, describeSegmentation, evaluateFile, type EvalResult } from '../eval/evaluate.js';
import { evaluateUnits } from '../eval/per-unit.js';
import type { EvalProgress } from '../eval/streams.js';
import type { Weights } from '../model/model.js';
import type { ModelFile } from '../model/serialize.js';
import { separatorId } from '../text/documents.js';
import type { UnitKind } from '../text/units.js';
import type { UnitRecord } from '../eval/unit-ledger.js';
import { makeTokenizer, type Tokenizer } from '../text/tokenizer.js';
import { loadModel } from '../model/store.js';
import { TRAIN_SETTINGS } from '../model/settings.js';
import { resolveCorpus } from '../text/corpora.js';
import { byteOfChar } from '../text/utf8.js';
import { ENGINE_FLAGS, jsonFlag } from './common-flags.js';
import { JSON_TEXT, RecordPrinter } from './eval-records.js';
import { errColor, outColor as c, stdout } from './io.js';
import { openModel } from './open.js';
import { addFlags, pick, type FlagSpec } from './parse.js';
import { ScoreProgress } from './progress.js';
import { StopGuard } from './signals.js';
import { StdinOnce } from './stdin.js';
import { resolveText, type ResolvedText } from './text-args.js';
import { fmt, fmtInt, jsonLine, makeUi, type Ui } from './ui.js';

export interface DynamicFlags { dynamic?: boolean; dynamicSeq: number; dynamicLr: number; dynamicDecay: number; dynamicRule: DynamicRule }

interface EvalFlags extends DynamicFlags {
  streams?: number; burnIn: number; seq?: number; split?: 'val' | 'test'; corpusDir?: string; backend: string; threads?: number; json?: boolean;
  perLine?: boolean; perDoc?: boolean; resetEach?: boolean;
}

export const DYNAMIC_FLAGS: FlagSpec[] = [
  { key: 'dynamic', flag: '--dynamic', kind: { type: 'switch' }, help: 'also dynamic evaluation (Krause et al. 2018): score each segment, then adapt the weights on it; reported beside the static figure' },
  { key: 'dynamicSeq', flag: '--dynamic-seq', arg: '<n>', kind: { type: 'int', min: 1, max: 100000 }, default: DYNAMIC_DEFAULTS.segment, help: 'characters per segment of dynamic evaluation (one update after each)' },
  { key: 'dynamicLr', flag: '--dynamic-lr', arg: '<rate>', kind: { type: 'float', min: 0, max: 100 }, default: DYNAMIC_DEFAULTS.lr, help: 'learning rate of dynamic evaluation (0: static, bit for bit)' },
  { key: 'dynamicDecay', flag: '--dynamic-decay', arg: '<rate>', kind: { type: 'float', min: 0, max: 1 }, default: DYNAMIC_DEFAULTS.decay, help: 'decay of the adapted weights back towards the trained ones, per segment' },
  { key: 'dynamicRule', flag: '--dynamic-rule', arg: '<rule>', kind: { type: 'choice', values: DYNAMIC_RULES }, default: DYNAMIC_DEFAULTS.rule, help: 'update: rms (the paper\'s: steps scaled by the training gradients\' RMS, decay by it too) or sgd' },
];

export const EVAL_FLAGS: FlagSpec[] = [
  { key: 'perLine', flag: '--per-line', kind: { type: 'switch' }, help: 'a record per line (chars, nats, bits/char, line number), then the total' },
  { key: 'perDoc', flag: '--per-doc', kind: { type: 'switch' }, help: 'a record per document (each file of the folders and files given), then the total' },
  { key: 'resetEach', flag: '--reset-each', kind: { type: 'switch' }, help: 'with --per-line or --per-doc: score each from a fresh state (independent records) instead of in context' },
  ...DYNAMIC_FLAGS,
  { key: 'streams', flag: '--streams', arg: '<n>', kind: { type: 'int', min: 1, max: 4096 }, default: DEFAULT_STREAMS, help: 'segments of the text scored side by side (1: one exact stream over the whole text)' },
  { key: 'burnIn', flag: '--burn-in', arg: '<n>', kind: { type: 'int', min: 1, max: 1 << 20 }, default: DEFAULT_BURN_IN, help: 'characters fed, not scored, before each segment after the first, to warm its state' },
  { key: 'seq', flag: '--seq', arg: '<n>', kind: { type: 'int', min: 1, max: 100000 }, help: 'characters per chunk per stream (speed and memory only, not the result; default: 4096 positions per chunk in all)' },
  { key: 'split', flag: '--split', arg: '<part>', kind: { type: 'choice', values: ['val', 'test'] }, help: 'for a catalogue corpus: the part scored (default: test where it has one, else val)' },
  pick(TRAIN_SETTINGS, 'corpusDir'),
  ...ENGINE_FLAGS,
  jsonFlag('print one JSON object (records as JSON lines before it, and progress lines on long runs)'),
];

export function registerEval(program: Command): void {
  const cmd = program
    .command('eval')
    .description('measure how well a checkpoint predicts a text (every character scored once)')
    .argument('<checkpoint>', '.ckpt file written by charnn train')
    .argument('<texts...>', 'UTF-8 text files, folders (every text file under them, in name order), - for standard input, or a catalogue corpus name (its test or validation part)');
  addFlags(cmd, EVAL_FLAGS)
    .addHelpText('after', `
Examples:
  charnn eval checkpoints/shakespeare.ckpt ../shared/corpora/tinyshakespeare.txt
  charnn eval checkpoints/shakespeare.ckpt tinyshakespeare --streams 1     # one exact stream over the validation split
  charnn eval checkpoints/shakespeare.ckpt lines.txt --per-line --reset-each --json   # a record per line, each alone
  charnn eval checkpoints/shakespeare.ckpt letters/ --per-doc                         # a record per file of the folder
  some-command | charnn eval checkpoints/shakespeare.ckpt - --dynamic                 # see docs/perplexity.md`)
    .action(async (ckpt: string, args: string[], f: EvalFlags, cmd: Command) => {
      // Each way of cutting the text has its own default width; only a --streams given applies to all.
      if (cmd.getOptionValueSource('streams') !== 'cli') f.streams = undefined;
      const ui = makeUi(!!f.json);
      if (f.perLine && f.perDoc) throw new UserError('give --per-line or --per-doc, not both');
      if (f.resetEach && !f.perLine && !f.perDoc) throw new UserError('--reset-each needs --per-line or --per-doc (what starts from a fresh state: each line or each document)');
      if (f.resetEach && f.dynamic) throw new UserError('--dynamic reads the text as one stream, adapting as it goes; it does not combine with --reset-each');
      const file = await ui.wait(`Loading ${ckpt}`, () => loadModel(ckpt));
      const tok = makeTokenizer(file.tokenizer, file.vocab);
      const stdin = new StdinOnce(os.tmpdir());
      try {
        const text = await resolveText(args, { tokenizer: tok.kind, corpusDir: f.corpusDir, split: f.split, stdin });
        for (const s of text.skipped) ui.warn(`skipping ${s.path}: ${s.reason}`);
        const { engine, weights } = await openModel(ui, ckpt, f.backend, f.threads, file);
        try {
          await run(ui, file, tok, engine, weights, text, f);
        } finally {
          engine.dispose();
        }
      } finally {
        await stdin.dispose();
      }
    });
}

async function run(ui: Ui, file: ModelFile, tok: Tokenizer, engine: Engine, weights: Weights, text: ResolvedText, f: EvalFlags): Promise<void> {
  // First Ctrl-C: stop after this chunk and report what was scored; a second exits at once.
  const stop = new AbortController();
  const guard = new StopGuard(() => stop.abort());
  const unit: UnitKind | null = f.perLine ? 'line' : f.perDoc ? 'doc' : null;
  // A table on the terminal and a bar redrawing beside it would garble each other.
  const bar = ui.json || (unit && stdout.isTTY) ? null : new ScoreProgress(`scoring ${text.label}`, `${tok.unit}s`);
  let lastLine = performance.now();
  const onProgress = (p: EvalProgress) => {
    bar?.update(p.done, p.total, p.chars);
    // JSON progress at a modest rate, and only for runs long enough to want it (never among records).
    if (ui.json && !unit && performance.now() - lastLine > 2000) {
      lastLine = performance.now();
      jsonLine({ type: 'progress', done: p.done, total: p.total, scored: p.chars });
    }
  };
  const printer = unit ? new RecordPrinter({ unit, docs: text.docs, name: (i) => text.names[i], symbol: tok.unit, dynamic: !!f.dynamic, json: ui.json }) : null;
  const separator = separatorId(tok, file.training.doc_separator);
  const records = printer ? { unit: unit!, previewChars: JSON_TEXT + 1, onRecord: (r: UnitRecord) => printer.write(r) } : {};
  printer?.header();
  try {
    let total: Total;
    if (f.dynamic) {
      const meanSquares = f.dynamicRule === 'rms' ? trainingMeanSquares(file) ?? undefined : undefined;
      const r = await evaluateDynamic(weights, text.docs, tok, {
        segment: f.dynamicSeq, lr: f.dynamicLr, decay: f.dynamicDecay, rule: f.dynamicRule, meanSquares, separator, signal: stop.signal, onProgress, ...records,
      });
      total = {
        chars: r.chars, nats: r.staticNats, seconds: r.seconds, unknown: r.unknown, partial: r.partial, dynamicNats: r.dynamicNats,
        segmentation: `one stream over the whole text (exact); dynamic: ${fmtInt(r.segments)} segments of ${r.settings.segment} ${tok.unit}s, each scored, then learned from (${r.settings.rule}, lr ${r.settings.lr}, decay ${r.settings.decay})`,
        streams: 1, burnIn: 0, dynamic: r.settings,
      };
    } else if (unit || !text.oneFile) {
      const r = await evaluateUnits(weights, text.docs, tok, {
        unit: unit ?? 'doc', resetEach: f.resetEach, streams: f.streams, burnIn: f.burnIn, seq: f.seq, separator, signal: stop.signal, onProgress, ...records,
      });
      total = { chars: r.chars, nats: r.nats, seconds: r.seconds, unknown: r.unknown, partial: r.partial, segmentation: r.segmentation, streams: r.rows, burnIn: f.resetEach ? 0 : f.burnIn };
    } else {
      const doc = text.docs[0];
      const r = await evaluateFile(weights, doc.path, tok, { streams: f.streams, burnIn: f.burnIn, seq: f.seq, signal: stop.signal, range: doc.range, onProgress });
      total = {
        chars: r.chars, nats: r.nats, seconds: r.seconds, unknown: r.unknown, partial: r.partial,
        segmentation: describeSegmentation(r.segmentation, tok.unit), streams: r.segmentation.streams, burnIn: r.segmentation.burnIn,
      };
    }
    printer?.flush();
    bar?.stop();
    if (total.chars === 0) throw new UserError(`${text.label}: ${total.partial ? 'stopped before any character was scored' : 'nothing to score (every part is shorter than 2 characters the model knows)'}`);
    report(total, text, tok.unit, engine, ui, guard.stopRequested);
    if (guard.stopRequested) process.exitCode = guard.exitCode;
  } finally {
    printer?.flush();
    bar?.stop();
    guard.dispose();
  }
}

interface Total {
  chars: number; nats: number; seconds: number; unknown: number; partial: boolean; segmentation: string; streams: number; burnIn: number;
  dynamicNats?: number;
  dynamic?: { segment: number; lr: number; decay: number; rule: string };
}

function report(r: Total, text: ResolvedText, unit: 'char' | 'byte', engine: Engine, ui: Ui, partial: boolean): void {
  const nats = r.nats / r.chars, dyn = r.dynamicNats === undefined ? null : r.dynamicNats / r.chars;
  const out: Record<string, unknown> = {
    type: 'eval', file: text.label, files: text.docs.length, split: text.split, unit, chars: r.chars, nats_per_char: nats, bits_per_char: nats / Math.LN2, perplexity: Math.exp(nats),
    chars_per_sec: r.chars / r.seconds, unknown_chars_skipped: r.unknown, partial,
    backend: engine.name, kernels: engine.variant ?? null, streams: r.streams, burn_in: r.burnIn, segmentation: r.segmentation,
  };
  if (dyn !== null && r.dynamic) {
    Object.assign(out, {
      dynamic_nats_per_char: dyn, dynamic_bits_per_char: dyn / Math.LN2, dynamic_perplexity: Math.exp(dyn),
      dynamic_seq: r.dynamic.segment, dynamic_lr: r.dynamic.lr, dynamic_decay: r.dynamic.decay, dynamic_rule: r.dynamic.rule,
    });
  }
  if (ui.json) return jsonLine(out);
  const u = unit === 'byte' ? 'byte' : 'char';
  const files = text.docs.length > 1 ? ` in ${fmtInt(text.docs.length)} files` : '';
  let figures: string;
  if (dyn === null) {
    figures = `  ${c.green(fmt(nats))} nats/${u}   ${c.green(fmt(nats / Math.LN2))} bits/${u}   perplexity ${c.green(fmt(Math.exp(nats), 3))}\n`;
  } else {
    const row = (name: string, a: string, b: string) => `  ${name.padEnd(12)}${a.padStart(10)}${b.padStart(10)}\n`;
    figures = row('', 'static', 'dynamic') + row(`nats/${u}`, fmt(nats), fmt(dyn)) + row(`bits/${u}`, fmt(nats / Math.LN2), fmt(dyn / Math.LN2)) + row('perplexity', fmt(Math.exp(nats), 3), fmt(Math.exp(dyn), 3));
  }
  stdout.write(
    `${c.bold(text.label)}: ${fmtInt(r.chars)} ${u}s scored${files}${partial ? c.yellow(' (stopped early: a partial result over what was scored)') : ''}\n` +
      figures +
      `  ${fmtInt(r.chars / r.seconds)} ${u}s/s on ${engineLabel(engine)}; ${r.segmentation}\n` +
      (unit === 'byte' ? '  a byte-level model: every figure is per byte of UTF-8\n' : ''),
  );
  if (r.unknown) ui.note(errColor.yellow(`skipped ${fmtInt(r.unknown)} characters not in the model's vocabulary (not fed, not scored)`));
}
