// `charnn bench CKPT... --on TEXT...`: every checkpoint on every text, as a table, markdown (a
// paper's table: model, parameters, text, split, bits per char), CSV or JSON, with a progress bar
// per pair on a terminal. A text is a file, a folder (one row for all its files), - for standard
// input, or a catalogue corpus name (its test part where it has one, else validation). --dynamic
// adds dynamic evaluation beside the static figure. Ctrl-C prints the rows finished so far.
import os from 'node:os';
import { UserError } from '../errors.js';
import { trainingMeanSquares } from '../eval/dynamic.js';
import { benchTable, formatTable, TABLE_FORMATS, type BenchModel, type BenchText, type TableFormat } from '../eval/table.js';
import { separatorId } from '../text/documents.js';
import { makeTokenizer } from '../text/tokenizer.js';
import { loadModel } from '../model/store.js';
import { stdout } from './io.js';
import { openModel } from './open.js';
import { DYNAMIC_FLAGS, EVAL_FLAGS, type DynamicFlags } from './eval-command.js';
import { pick, type FlagSpec } from './parse.js';
import { StopGuard } from './signals.js';
import { ScoreProgress } from './progress.js';
import { StdinOnce } from './stdin.js';
import { resolveText } from './text-args.js';
import { makeUi } from './ui.js';
import type { Engine } from '../engine/engine-api.js';

export interface PerplexityFlags extends DynamicFlags {
  on?: string[]; format: TableFormat; streams: number; burnIn: number; split?: 'val' | 'test'; corpusDir?: string; backend: string; threads?: number;
}

export const PERPLEXITY_FLAGS: FlagSpec[] = [
  { key: 'on', flag: '--on', arg: '<texts...>', kind: { type: 'text' }, help: 'texts every checkpoint is scored on: files, folders (one row each, all their text files), - for standard input, or catalogue corpus names (their test or validation part)' },
  { key: 'format', flag: '--format', arg: '<format>', kind: { type: 'choice', values: TABLE_FORMATS }, default: 'table', help: `perplexity table format: ${TABLE_FORMATS.join(', ')} (markdown: a paper's table, pasteable as it is)` },
  ...DYNAMIC_FLAGS,
  pick(EVAL_FLAGS, 'streams'), pick(EVAL_FLAGS, 'burnIn'), pick(EVAL_FLAGS, 'split'), pick(EVAL_FLAGS, 'corpusDir'),
];

export async function benchPerplexity(ckpts: string[], f: PerplexityFlags): Promise<void> {
  if (ckpts.length === 0) throw new UserError('bench --on needs checkpoints to score: charnn bench CKPT... --on TEXT...');
  if (!f.on?.length) throw new UserError('bench CKPT... needs --on TEXT... (the texts to score them on)');
  const ui = makeUi(f.format === 'json' || f.format === 'csv' || !process.stderr.isTTY);
  const engines: Engine[] = [];
  const models: BenchModel[] = [];
  const stop = new AbortController();
  const guard = new StopGuard(() => stop.abort());
  const stdin = new StdinOnce(os.tmpdir());
  let bar: ScoreProgress | null = null;
  try {
    const files = [];
    for (const ckpt of ckpts) files.push(await ui.wait(`Loading ${ckpt}`, () => loadModel(ckpt)));
    // Which files of a folder are text depends on the tokenizer (bytes take any UTF-8 or not).
    const kind = files.some((m) => (m.tokenizer ?? 'chars') === 'chars') ? 'chars' : 'bytes';
    const texts: BenchText[] = [];
    for (const arg of f.on) {
      const t = await resolveText([arg], { tokenizer: kind, corpusDir: f.corpusDir, split: f.split, stdin });
      for (const s of t.skipped) ui.warn(`skipping ${s.path}: ${s.reason}`);
      // Named as typed: the split column says which part of a corpus was scored.
      texts.push({ label: arg === '-' ? 'standard input' : arg, docs: t.docs, oneFile: t.oneFile, split: t.split });
    }
    for (let i = 0; i < ckpts.length; i++) {
      const m = await openModel(ui, ckpts[i], f.backend, f.threads, files[i]);
      engines.push(m.engine);
      const tokenizer = makeTokenizer(m.file.tokenizer, m.file.vocab);
      const meanSquares = f.dynamic && f.dynamicRule === 'rms' ? trainingMeanSquares(m.file) : null;
      if (f.dynamic && f.dynamicRule === 'rms' && !meanSquares) throw new UserError(`${ckpts[i]} holds no gradient statistics of its training, which --dynamic-rule rms needs; use --dynamic-rule sgd`);
      models.push({ checkpoint: ckpts[i], weights: m.weights, tokenizer, separator: separatorId(tokenizer, m.file.training.doc_separator), meanSquares: meanSquares ?? undefined });
    }
    const rows = await benchTable(models, texts, {
      streams: f.streams, burnIn: f.burnIn, signal: stop.signal,
      dynamic: f.dynamic ? { segment: f.dynamicSeq, lr: f.dynamicLr, decay: f.dynamicDecay, rule: f.dynamicRule } : undefined,
      each: (ckpt, text) => {
        bar?.stop();
        bar = ui.json ? null : new ScoreProgress(`${ckpt} on ${text}`);
        return { onProgress: (p) => bar?.update(p.done, p.total, p.chars) };
      },
    });
    (bar as ScoreProgress | null)?.stop();
    stdout.write(formatTable(rows, f.format));
    if (guard.stopRequested) process.exitCode = guard.exitCode;
  } finally {
    (bar as ScoreProgress | null)?.stop();
    guard.dispose();
    await stdin.dispose();
    for (const e of engines) e.dispose();
  }
}
