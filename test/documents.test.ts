// A folder as a text: every regular text file under it in name order, files that are not text
// skipped and named, and training's split by whole documents.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDocuments, splitDocuments } from '../src/text/doc-corpus.js';
import { DOC_SEPARATOR, listDocuments, separatorId } from '../src/text/documents.js';
import { ByteTokenizer, CharTokenizer, Vocab } from '../src/text/index.js';

const root = mkdtempSync(join(tmpdir(), 'charnn-docs-'));

function folder(name: string, files: Record<string, string | Buffer>): string {
  const dir = join(root, name);
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), body);
  }
  return dir;
}

describe('listing a folder', () => {
  const dir = folder('mixed', {
    'b.txt': 'bee\n', 'a.txt': 'ay\n', 'sub/c.md': 'sea\n', 'sub/deeper/d.txt': 'dee\n', 'B.txt': 'capital\n',
    'image.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x1a]), 'latin1.txt': Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]),
    '.git/config': 'hidden\n', 'empty.txt': '',
  });
  symlinkSync(join(dir, 'a.txt'), join(dir, 'link.txt'));
  symlinkSync(join(dir, 'sub'), join(dir, 'zz-folder-link'));

  it('every regular text file under it in name order, subfolders included; hidden entries, empty files and links to folders left out', async () => {
    const l = await listDocuments([dir]);
    expect(l.docs.map((d) => d.path.slice(dir.length + 1))).toEqual(['B.txt', 'a.txt', 'b.txt', 'link.txt', 'sub/c.md', 'sub/deeper/d.txt']);
    expect(l.docs[0].bytes).toBe(8);
    expect(l.folder).toBe(true);
  });

  it('files that are not text are skipped and named with the reason: a NUL byte always, invalid UTF-8 for a character model', async () => {
    const chars = await listDocuments([dir], { tokenizer: 'chars' });
    expect(chars.skipped.map((s) => [s.path.slice(dir.length + 1), s.reason])).toEqual([
      ['image.png', 'not text (NUL byte at offset 4)'],
      ['latin1.txt', 'not UTF-8 text'],
    ]);
    // A byte model reads any bytes: only the NUL byte rules a file out.
    const bytes = await listDocuments([dir], { tokenizer: 'bytes' });
    expect(bytes.skipped.map((s) => s.path.slice(dir.length + 1))).toEqual(['image.png']);
    expect(bytes.docs.map((d) => d.path.slice(dir.length + 1))).toContain('latin1.txt');
  });

  it('a folder with no text file is an error naming it; files and folders mix, in the order given', async () => {
    const empty = folder('empty', { 'x.bin': Buffer.from([0, 1, 2]) });
    await expect(listDocuments([empty])).rejects.toThrow(`${empty} holds no text file (skipped 1 that is not text)`);
    mkdirSync(join(root, 'nothing'));
    await expect(listDocuments([join(root, 'nothing')])).rejects.toThrow(/holds no text file; give a folder/);
    const l = await listDocuments([join(dir, 'b.txt'), join(dir, 'sub')]);
    expect(l.docs.map((d) => d.path.slice(dir.length + 1))).toEqual(['b.txt', 'sub/c.md', 'sub/deeper/d.txt']);
    await expect(listDocuments([join(root, 'missing')])).rejects.toThrow(/no such file/);
  });
});

describe('a text of documents', () => {
  const dir = folder('docs', { '1.txt': 'one one one\n', '2.txt': 'two two\n', '3.txt': 'three three three three\n', '4.txt': 'four\n' });

  it('is read with the separator between documents, which the vocabulary holds', async () => {
    const { docs } = await listDocuments([dir]);
    const c = await readDocuments(docs);
    expect(c.vocab.idOf(DOC_SEPARATOR)).toBeGreaterThanOrEqual(0);
    expect(c.vocab.decode(c.ids)).toBe('one one one\n\0two two\n\0three three three three\n\0four\n');
    expect(c.starts).toEqual([0, 13, 22, 47]);
    expect(c.chars).toBe(12 + 8 + 24 + 5);
    const b = await readDocuments(docs, { tokenizer: 'bytes' });
    expect(b.ids[12]).toBe(0);
    expect(b.ids.length).toBe(c.ids.length);
  });

  it('validates on the last whole documents, about --val-frac of the text, at least one, never inside one', async () => {
    const { docs } = await listDocuments([dir]);
    const c = await readDocuments(docs);
    const at = (f: number) => {
      const s = splitDocuments(c.ids, c.starts, f, dir);
      return [c.vocab.decode(s.train), c.vocab.decode(s.val), s.valDocs];
    };
    expect(at(0.1)).toEqual(['one one one\n\0two two\n\0three three three three\n', 'four\n', 1]);
    expect(at(0.5)).toEqual(['one one one\n\0two two\n', 'three three three three\n\0four\n', 2]);
    const one = await readDocuments([docs[0]]);
    expect(() => splitDocuments(one.ids, one.starts, 0.1, 'solo/')).toThrow(/solo\/ holds one text file; validating on whole documents needs two or more/);
  });

  it('a model knows the separator only when its checkpoint records one', () => {
    const v = Vocab.fromText('\0ab');
    expect(separatorId(new CharTokenizer(v), DOC_SEPARATOR)).toBe(0);
    expect(separatorId(new CharTokenizer(Vocab.fromText('ab')), DOC_SEPARATOR)).toBeNull();
    expect(separatorId(new CharTokenizer(v), undefined)).toBeNull();
    expect(separatorId(new ByteTokenizer(), null)).toBeNull();
    expect(separatorId(new ByteTokenizer(), 0)).toBe(0);
  });
});
