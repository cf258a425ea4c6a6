// A text given as several files or folders: the documents it holds, in a stable order. A folder
// stands for every regular text file under it, subfolders included, in name order (code point
// order of each name, folder by folder); hidden entries (a name starting with '.') are left out,
// as version-control folders and editor files are not text anyone means to score. A file found in
// a folder that is not text (a NUL byte, or invalid UTF-8 for a character model) is skipped and
// reported, never mixed in; a file named directly is used as it is (reading it reports a bad one).
import { createReadStream, type Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';
import type { Tokenizer, TokenizerKind } from './tokenizer.js';
import { fsError } from './utf8.js';

/**
 * Between two documents of one text a model reads U+0000 (byte 0 for a byte model): it can never
 * occur inside a document, since a file holding a NUL byte is not text. A checkpoint trained on
 * several documents records it (`doc_separator`), and its vocabulary holds it.
 */
export const DOC_SEPARATOR = 0;

export interface Document {
  path: string;
  /** Bytes of the document (of its range, when it has one). */
  bytes: number;
  /** Only this byte range of the file [start, end), both at character starts (a catalogue corpus's part). */
  range?: [number, number];
}

export interface SkippedFile {
  path: string;
  /** Why, in a few words: "not text (NUL byte at offset 12)". */
  reason: string;
}

export interface DocumentList {
  docs: Document[];
  skipped: SkippedFile[];
  /** Whether a folder was among the arguments (one file in a folder is still a folder's text). */
  folder: boolean;
}

/** The documents of `paths` (files and folders), in order; a folder with no text file is a user error. */
export async function listDocuments(paths: string[], o: { tokenizer?: TokenizerKind } = {}): Promise<DocumentList> {
  const out: DocumentList = { docs: [], skipped: [], folder: false };
  for (const p of paths) {
    const st = await stat(p).catch((e) => Promise.reject(fsError(p, e)));
    if (!st.isDirectory()) {
      if (!st.isFile()) throw new UserError(`${p} is not a regular file or a folder, expected text`);
      if (st.size === 0) throw new UserError(`${p} is empty`);
      out.docs.push({ path: p, bytes: st.size });
      continue;
    }
    out.folder = true;
    const before = out.docs.length, skippedBefore = out.skipped.length;
    await walk(p, o.tokenizer ?? 'chars', out);
    if (out.docs.length === before) {
      const n = out.skipped.length - skippedBefore;
      throw new UserError(`${p} holds no text file${n ? ` (skipped ${n} that ${n === 1 ? 'is' : 'are'} not text)` : ''}; give a folder of UTF-8 text files`);
    }
  }
  return out;
}

async function walk(dir: string, tokenizer: TokenizerKind, out: DocumentList): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw fsError(dir, e);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of entries) {
    if (d.name.startsWith('.')) continue;
    const p = path.join(dir, d.name);
    // A link to a file counts as that file; links to folders are not followed (they may loop).
    const st = d.isSymbolicLink() ? await stat(p).catch(() => null) : null;
    if (d.isDirectory()) await walk(p, tokenizer, out);
    else if (d.isFile() || st?.isFile()) {
      const bytes = st?.size ?? (await stat(p)).size;
      if (bytes === 0) continue;
      const why = await notText(p, tokenizer);
      if (why) out.skipped.push({ path: p, reason: why });
      else out.docs.push({ path: p, bytes });
    }
  }
}

/**
 * Why `file` is not text, or null when it is: a NUL byte anywhere, or (for a character model)
 * bytes that are not UTF-8. Reads the whole file; reading is far faster than scoring it.
 */
export async function notText(file: string, tokenizer: TokenizerKind): Promise<string | null> {
  const decoder = tokenizer === 'chars' ? new TextDecoder('utf-8', { fatal: true }) : null;
  let offset = 0;
  try {
    for await (const buf of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      const nul = buf.indexOf(0);
      if (nul >= 0) return `not text (NUL byte at offset ${offset + nul})`;
      if (decoder) {
        if (offset === 0 && buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))) return 'UTF-16 text, not UTF-8';
        try {
          decoder.decode(buf, { stream: true });
        } catch {
          return 'not UTF-8 text';
        }
      }
      offset += buf.length;
    }
    if (decoder) decoder.decode();
  } catch (e) {
    if (e instanceof TypeError) return 'not UTF-8 text (it ends in the middle of a character)';
    throw fsError(file, e);
  }
  return null;
}

/** "3 files, 1,234 bytes" style summaries need the total. */
export function totalBytes(docs: Document[]): number {
  return docs.reduce((s, d) => s + d.bytes, 0);
}

/**
 * The id a model reads between documents: its checkpoint's `doc_separator` (recorded when it was
 * trained on several documents), or null, and documents are then joined as they are.
 */
export function separatorId(tok: Tokenizer, recorded: unknown): number | null {
  if (typeof recorded !== 'number') return null;
  const id = tok.kind === 'bytes' ? recorded : tok.vocab.idOf(recorded);
  return id >= 0 && id < tok.size ? id : null;
}
