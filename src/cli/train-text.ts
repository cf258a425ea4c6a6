// What `train` reads, beyond one file or a catalogue corpus: standard input (copied beside the
// output and read from the copy, which goes as soon as it has been read), and folders or several
// files (every text file, joined by the document separator, validated on whole documents).
import { stat } from 'node:fs/promises';
import { UserError } from '../errors.js';
import type { TrainSettings } from '../model/settings.js';
import { resolveCorpus, type ResolvedCorpus } from '../text/corpora.js';
import { readCorpus, type Corpus } from '../text/corpus.js';
import { readDocuments, splitDocuments } from '../text/doc-corpus.js';
import { DOC_SEPARATOR, listDocuments, type DocumentList } from '../text/documents.js';
import type { IdArray } from '../text/vocab.js';
import type { InputFile } from './paths.js';
import { copyStdin, STDIN } from './stdin.js';
import { fmtInt, type Ui } from './ui.js';

export interface TrainingText {
  /** As the checkpoint records it: the path or catalogue file, `-`, or several paths one per line. */
  corpus: string;
  /** How messages name it. */
  name: string;
  /** What the default output is named after. */
  outName: string;
  /** A catalogue corpus (its standard split applies), or a plain path. */
  resolved: ResolvedCorpus;
  fromStdin: boolean;
  /** Folders or several files: their documents. */
  list: DocumentList | null;
  /** The files read, for the checks that no output lands on one. */
  inputs: InputFile[];
}

export async function findTrainingText(arg: string | string[] | undefined, f: TrainSettings, ui: Ui): Promise<TrainingText> {
  const args = Array.isArray(arg) ? arg : [arg ?? 'brown'];
  const fromStdin = args.length === 1 && args[0] === STDIN;
  if (args.length > 1 && args.includes(STDIN)) throw new UserError('standard input (-) is a whole training text; give it alone, not with files');
  if (args.length > 1 || (await isFolder(args[0]))) {
    const list = await listDocuments(args, { tokenizer: f.tokenizer });
    for (const s of list.skipped) ui.warn(`skipping ${s.path}: ${s.reason}`);
    const inputs = list.docs.map((d) => ({ what: 'corpus', path: d.path }));
    return { corpus: args.join('\n'), name: args.join(' '), outName: args[0], resolved: { path: args.join('\n') }, fromStdin, list, inputs };
  }
  if (fromStdin) return { corpus: STDIN, name: 'standard input', outName: 'stdin', resolved: { path: STDIN }, fromStdin, list: null, inputs: [] };
  const resolved = await ui.wait(`Finding ${args[0]}`, () => resolveCorpus(args[0], { corpusDir: f.corpusDir }));
  return { corpus: resolved.path, name: resolved.path, outName: resolved.path, resolved, fromStdin, list: null, inputs: [{ what: 'corpus', path: resolved.path }] };
}

/** The whole text as ids; `starts` where each document begins when there are several. */
export async function readTrainingText(t: TrainingText, f: TrainSettings, ui: Ui, outDir: string): Promise<Corpus & { starts?: number[] }> {
  if (t.list) {
    const docs = t.list.docs;
    return ui.wait(`Reading ${docs.length} files`, () => readDocuments(docs, { tokenizer: f.tokenizer }));
  }
  const copy = t.fromStdin ? await ui.wait('Reading standard input', () => copyStdin(outDir)) : null;
  try {
    return await ui.wait(`Reading ${t.name}`, () => readCorpus(copy?.path ?? t.corpus, { tokenizer: f.tokenizer }));
  } finally {
    await copy?.remove();
  }
}

/** Validation on the last whole documents, with the words `info` shows for it. */
export function documentSplit(text: Corpus & { starts: number[] }, f: TrainSettings, name: string): { train: IdArray; val: IdArray; split: string } {
  const s = splitDocuments(text.ids, text.starts, f.valFrac, name);
  const n = text.starts.length, unit = f.tokenizer === 'bytes' ? 'bytes' : 'characters';
  return { ...s, split: `the last ${s.valDocs} of ${n} files validate (${fmtInt(s.val.length)} of ${fmtInt(text.ids.length - n + 1)} ${unit}), whole files only` };
}

/** The code point read between documents, for the checkpoint: only a text of several has one. */
export const separatorOf = (text: { starts?: number[] }): number | null => ((text.starts?.length ?? 1) > 1 ? DOC_SEPARATOR : null);

async function isFolder(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}
