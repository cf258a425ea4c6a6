// The texts eval and bench score, as the user names them: files, folders (every text file under
// them), `-` for standard input, or catalogue corpus names (their test part where they have one,
// else their validation part, unless --split says which).
import { stat } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { resolveCorpus } from '../text/corpora.js';
import { listDocuments, type Document, type SkippedFile } from '../text/documents.js';
import type { TokenizerKind } from '../text/tokenizer.js';
import { byteOfChar } from '../text/utf8.js';
import { STDIN, type StdinOnce } from './stdin.js';

export interface ResolvedText {
  /** How reports name it. */
  label: string;
  docs: Document[];
  /** How reports name each document. */
  names: string[];
  skipped: SkippedFile[];
  /** One file (or one part of a corpus) named directly: the segmented single-file evaluator scores it. */
  oneFile: boolean;
  /** The part of a catalogue corpus scored ('test' or 'validation'); 'whole' for files. */
  split: string;
}

export interface TextOptions {
  tokenizer: TokenizerKind;
  corpusDir?: string;
  split?: 'val' | 'test';
  stdin: StdinOnce;
}

/** The arguments together as one text (their documents in order). */
export async function resolveText(args: string[], o: TextOptions): Promise<ResolvedText> {
  const docs: Document[] = [], names: string[] = [], skipped: SkippedFile[] = [], splits = new Set<string>(), labels: string[] = [];
  let folder = false;
  for (const arg of args) {
    if (arg === STDIN) {
      const copy = await o.stdin.take(arg);
      docs.push({ path: copy.path, bytes: copy.bytes });
      names.push('standard input');
      labels.push('standard input');
      splits.add('whole');
      continue;
    }
    if (!(await exists(arg))) {
      const r = await resolveCorpus(arg, { corpusDir: o.corpusDir });
      if (r.split) {
        const part = o.split ?? (r.split.test ? 'test' : 'val');
        const range = part === 'test' ? r.split.test : r.split.val;
        if (!range) throw new UserError(`corpus ${r.name} has no test part; use --split val`);
        const bytes: [number, number] = r.split.unit === 'bytes' ? range : [await byteOfChar(r.path, range[0]), await byteOfChar(r.path, range[1])];
        const name = part === 'test' ? 'test' : 'validation';
        docs.push({ path: r.path, bytes: bytes[1] - bytes[0], range: bytes });
        labels.push(`${r.name} (${name} part)`);
        names.push(labels[labels.length - 1]);
        splits.add(name);
        continue;
      }
    }
    const list = await listDocuments([arg], { tokenizer: o.tokenizer });
    docs.push(...list.docs);
    names.push(...list.docs.map((d) => d.path));
    skipped.push(...list.skipped);
    folder ||= list.folder;
    labels.push(arg);
    splits.add('whole');
  }
  if (o.split && !splits.has('test') && !splits.has('validation')) throw new UserError(`--split needs a catalogue corpus; ${args.join(' ')} ${args.length > 1 ? 'are files, scored' : 'is a file, scored'} whole`);
  return { label: labels.join(' '), docs, names, skipped, oneFile: docs.length === 1 && !folder, split: splits.size === 1 ? [...splits][0] : 'mixed' };
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
