// `charnn bench CKPT... --on FILE...`: every checkpoint on every file, as a table, markdown, CSV
// or JSON, with a progress bar per pair on a terminal. A file may be a catalogue corpus name (its
// whole text is scored). Ctrl-C prints the rows finished so far.
import { UserError } from '../errors.js';
import { benchTable, formatTable, TABLE_FORMATS, type BenchModel, type TableFormat } from '../eval/table.js';
import { resolveCorpus } from '../text/corpora.js';
import { makeTokenizer } from '../text/tokenizer.js';
import { stdout } from './io.js';
import { openModel } from './open.js';
import { EVAL_FLAGS } from './eval-command.js';
import { pick, type FlagSpec } from './parse.js';
import { StopGuard } from './signals.js';
import { ScoreProgress } from './progress.js';
import { makeUi } from './ui.js';
import type { Engine } from '../engine/engine-api.js';

export interface PerplexityFlags {
  on?: string[]; format: TableFormat; streams: number; burnIn: number; corpusDir?: string; backend: string; threads?: number;
}

export const PERPLEXITY_FLAGS: FlagSpec[] = [
  { key: 'on', flag: '--on', arg: '<files...>', kind: { type: 'text' }, help: 'text files (or catalogue corpus names) every checkpoint is scored on' },
  { key: 'format', flag: '--format', arg: '<format>', kind: { type: 'choice', values: TABLE_FORMATS }, default: 'table', help: `perplexity table format: ${TABLE_FORMATS.join(', ')}` },
  pick(EVAL_FLAGS, 'streams'), pick(EVAL_FLAGS, 'burnIn'), pick(EVAL_FLAGS, 'corpusDir'),
];

export async function benchPerplexity(ckpts: string[], f: PerplexityFlags): Promise<void> {
  if (ckpts.length === 0) throw new UserError('bench --on needs checkpoints to score: charnn bench CKPT... --on FILE...');
  if (!f.on?.length) throw new UserError('bench CKPT... needs --on FILE... (the texts to score them on)');
  const ui = makeUi(f.format === 'json' || f.format === 'csv' || !process.stderr.isTTY);
  const files = await Promise.all(f.on.map(async (arg) => ({ arg, path: (await resolveCorpus(arg, { corpusDir: f.corpusDir })).path })));
  const engines: Engine[] = [];
  const models: BenchModel[] = [];
  const stop = new AbortController();
  const guard = new StopGuard(() => stop.abort());
  let bar: ScoreProgress | null = null;
  try {
    for (const ckpt of ckpts) {
      const m = await openModel(ui, ckpt, f.backend, f.threads);
      engines.push(m.engine);
      models.push({ checkpoint: ckpt, weights: m.weights, tokenizer: makeTokenizer(m.file.tokenizer, m.file.vocab) });
    }
    const byPath = new Map(files.map((x) => [x.path, x.arg]));
    const rows = await benchTable(models, files.map((x) => x.path), {
      streams: f.streams, burnIn: f.burnIn, signal: stop.signal,
      each: (ckpt, file) => {
        bar?.stop();
        bar = ui.json ? null : new ScoreProgress(`${ckpt} on ${byPath.get(file)}`);
        return { onProgress: (p) => bar?.update(p.done, p.total, p.chars) };
      },
    });
    (bar as ScoreProgress | null)?.stop();
    for (const r of rows) r.file = byPath.get(r.file) ?? r.file;
    stdout.write(formatTable(rows, f.format));
    if (guard.stopRequested) process.exitCode = guard.exitCode;
  } finally {
    (bar as ScoreProgress | null)?.stop();
    guard.dispose();
    for (const e of engines) e.dispose();
  }
}
