// `charnn bench CKPT... --on FILE...`: every checkpoint on every file, as a table, markdown, CSV
// or JSON, with a progress bar per pair on a terminal. A file may be a catalogue corpus name (its
// whole text is scored). Ctrl-C prints the rows finished so far.
import { UserError } from '../errors.js';
import { DEFAULT_BURN_IN, DEFAULT_STREAMS } from '../eval/evaluate.js';
import { benchTable, formatTable, TABLE_FORMATS, type BenchModel, type TableFormat } from '../eval/table.js';
import { resolveCorpus } from '../text/corpora.js';
import { makeTokenizer } from '../text/tokenizer.js';
import { stdout } from './io.js';
import { openModel } from './open.js';
import type { FlagSpec } from './parse.js';
import { ScoreProgress } from './progress.js';
import { makeUi } from './ui.js';
import type { Engine } from '../engine/engine.js';

export interface PerplexityFlags {
  on?: string[]; format: TableFormat; streams: number; burnIn: number; corpusDir?: string; backend: string; threads?: number;
}

export const PERPLEXITY_FLAGS: FlagSpec[] = [
  { key: 'on', flag: '--on', arg: '<files...>', kind: { type: 'text' }, help: 'text files (or catalogue corpus names) every checkpoint is scored on' },
  { key: 'format', flag: '--format', arg: '<format>', kind: { type: 'choice', values: TABLE_FORMATS }, default: 'table', help: `perplexity table format: ${TABLE_FORMATS.join(', ')}` },
  { key: 'streams', flag: '--streams', arg: '<n>', kind: { type: 'int', min: 1, max: 4096 }, default: DEFAULT_STREAMS, help: 'segments scored side by side (1: one exact stream), as in eval' },
  { key: 'burnIn', flag: '--burn-in', arg: '<n>', kind: { type: 'int', min: 1, max: 1 << 20 }, default: DEFAULT_BURN_IN, help: 'characters fed before each segment after the first, as in eval' },
  { key: 'corpusDir', flag: '--corpus-dir', arg: '<folder>', kind: { type: 'text' }, help: 'where catalogue corpora are cached' },
];

export async function benchPerplexity(ckpts: string[], f: PerplexityFlags): Promise<void> {
  if (ckpts.length === 0) throw new UserError('bench --on needs checkpoints to score: charnn bench CKPT... --on FILE...');
  if (!f.on?.length) throw new UserError('bench CKPT... needs --on FILE... (the texts to score them on)');
  const ui = makeUi(f.format === 'json' || f.format === 'csv' || !process.stderr.isTTY);
  const files = await Promise.all(f.on.map(async (arg) => ({ arg, path: (await resolveCorpus(arg, { corpusDir: f.corpusDir })).path })));
  const engines: Engine[] = [];
  const models: BenchModel[] = [];
  const stop = new AbortController();
  const onSignal = () => (stop.signal.aborted ? process.exit(130) : stop.abort());
  process.on('SIGINT', onSignal);
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
    if (stop.signal.aborted) process.exitCode = 130;
  } finally {
    (bar as ScoreProgress | null)?.stop();
    process.off('SIGINT', onSignal);
    for (const e of engines) e.dispose();
  }
}
