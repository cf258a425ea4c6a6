// A training text of several documents (the files of a folder, or several files): read whole into
// one id array with the separator between documents, and split for validation by whole
// documents, never inside one: the last ones in name order, about --val-frac of the text.
import { UserError } from '../errors.js';
import { DOC_SEPARATOR, type Document } from './documents.js';
import { readCorpus, type Corpus } from './corpus.js';
import { BYTE_VOCAB, type TokenizerKind } from './tokenizer.js';
import { readTextChunks, toCodePoints } from './utf8.js';
import { Vocab, type IdArray } from './vocab.js';

export interface DocCorpus extends Corpus {
  /** Where each document's first id is (its separator, when it has one, just before it). */
  starts: number[];
}

/** The documents joined by DOC_SEPARATOR; the vocabulary holds it. Read twice (characters, then ids), one document at a time. */
export async function readDocuments(docs: Document[], o: { tokenizer?: TokenizerKind; vocab?: Vocab } = {}): Promise<DocCorpus> {
  const tokenizer = o.tokenizer ?? 'chars';
  const parts: Corpus[] = [];
  let vocab = o.vocab;
  if (!vocab) {
    if (tokenizer === 'bytes') vocab = BYTE_VOCAB;
    else {
      const seen = new Set<number>([DOC_SEPARATOR]);
      let cps = new Uint32Array(1 << 16);
      for (const d of docs) {
        for await (const text of readTextChunks(d.path)) {
          if (cps.length < text.length) cps = new Uint32Array(text.length);
          const n = toCodePoints(text, cps);
          for (let i = 0; i < n; i++) seen.add(cps[i]);
        }
      }
      vocab = Vocab.fromCodePoints(seen);
    }
  }
  // Each document encoded alone, then copied into place: only one document's ids are extra.
  let total = docs.length - 1, chars = 0, unknown = 0;
  const unknownChars = new Map<number, number>();
  for (const d of docs) {
    const c = await readCorpus(d.path, { vocab, tokenizer });
    parts.push(c);
    total += c.ids.length;
  }
  const ids: IdArray = vocab.allocIds(total);
  const sep = tokenizer === 'bytes' ? DOC_SEPARATOR : vocab.idOf(DOC_SEPARATOR);
  if (sep < 0) throw new UserError('the vocabulary has no document separator; a model trained on one file cannot resume on several');
  const starts: number[] = [];
  let at = 0;
  parts.forEach((c, i) => {
    if (i > 0) ids[at++] = sep;
    starts.push(at);
    ids.set(c.ids, at);
    at += c.ids.length;
    chars += c.chars;
    unknown += c.unknown;
    for (const [cp, k] of c.unknownChars) unknownChars.set(cp, (unknownChars.get(cp) ?? 0) + k);
  });
  return { ids, vocab, tokenizer, chars, unknown, unknownChars, starts };
}

export interface DocSplit<T extends IdArray> {
  train: T;
  val: T;
  /** Documents that validate: the last ones. */
  valDocs: number;
}

/**
 * The last documents validate: as many as bring their share of the ids nearest to `valFrac`, at
 * least one, and at least one left to train on. The separator before the first of them belongs to
 * neither part.
 */
export function splitDocuments<T extends IdArray>(ids: T, starts: number[], valFrac: number, source: string): DocSplit<T> {
  const n = starts.length;
  if (n < 2) throw new UserError(`${source} holds one text file; validating on whole documents needs two or more (or train on the file itself, whose last --val-frac validates, or give --val FILE)`);
  const target = valFrac * ids.length;
  let best = 1;
  for (let k = 1; k < n; k++) {
    if (Math.abs(ids.length - starts[n - k] - target) < Math.abs(ids.length - starts[n - best] - target)) best = k;
  }
  const cut = starts[n - best];
  const train = ids.subarray(0, cut - 1) as T, val = ids.subarray(cut) as T;
  if (train.length < 2 || val.length < 2) throw new UserError(`${source} is too small to split by documents: ${train.length} characters to train on and ${val.length} to validate (need at least 2 each)`);
  return { train, val, valDocs: best };
}
