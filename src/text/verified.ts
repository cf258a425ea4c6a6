// Checking a cached corpus before it is used, and remembering that it passed. A file is hashed
// once; a small record beside it (.NAME.verified: size, mtime, ctime, inode and sha256) lets later
// runs trust it without reading 100 MB again, until any of those change. The record also carries
// the hash of a text that charnn prepared itself (unpacked or converted), for which the catalogue
// pins no hash: a later change to that text is then still caught.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';
import { writeAtomically } from './cache.js';

export interface Hashed {
  bytes: number;
  sha256: string;
}

/** What a cached file must be, and what to tell the user when it is not. */
export interface CachedCheck {
  /** The catalogue's size and sha256, where it pins them. */
  bytes?: number;
  sha256?: string | null;
  /** The expected sha256 when neither the catalogue nor a record has one (brown: a fresh conversion). */
  reference?: () => Promise<string>;
  /** The corpus, as messages name it. */
  name: string;
  /** What to do about a bad file, e.g. "delete it and run `charnn corpus get x`". */
  advice: string;
}

export interface Checked extends Hashed {
  /** 'remembered': a fresh record vouched for the file, which was not read. */
  checked: 'hashed' | 'remembered';
}

interface VerifiedRecord {
  bytes: number;
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
  sha256: string;
}

type FileStat = Awaited<ReturnType<typeof statOf>>;
const statOf = (file: string) => stat(file, { bigint: true });

export const recordPathFor = (file: string) => path.join(path.dirname(file), `.${path.basename(file)}.verified`);

/** sha256 and size of a file, read as a stream (never whole into memory). */
export async function hashFile(file: string): Promise<Hashed> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Checks `file` against `check`, by its record when that is fresh; throws a UserError naming what is wrong. */
export async function verifyCached(file: string, check: CachedCheck): Promise<Checked> {
  const st = await readable(file, () => statOf(file));
  const bytes = Number(st.size);
  if (check.bytes !== undefined && bytes !== check.bytes) {
    throw new UserError(`${file} is ${bytes} bytes, expected ${check.bytes} for ${check.name}${await htmlNote(file) || ': truncated, or not this corpus'}; ${check.advice}`);
  }
  const rec = await readRecord(file);
  if (rec && isFresh(rec, st) && (!check.sha256 || rec.sha256 === check.sha256)) return { bytes, sha256: rec.sha256, checked: 'remembered' };

  const want = check.sha256 ?? rec?.sha256 ?? (check.reference ? await check.reference() : undefined);
  if (!want) {
    throw new UserError(
      `${file} cannot be checked: the catalogue pins no sha256 of ${check.name}'s text and this copy was not prepared by \`charnn corpus get\` (no ${path.basename(recordPathFor(file))} beside it); ${check.advice}`,
    );
  }
  const got = await readable(file, () => hashFile(file));
  if (got.sha256 !== want) {
    const against = check.sha256 ? "the catalogue's" : rec ? 'the one recorded when charnn prepared it' : 'a fresh conversion';
    throw new UserError(`${file} is not ${check.name}'s text${await htmlNote(file)}: sha256 ${got.sha256}, expected ${want} (${against}); ${check.advice}`);
  }
  // The stat taken before hashing: a file changed meanwhile no longer matches the record.
  await writeRecord(file, got.sha256, st);
  return { ...got, checked: 'hashed' };
}

// A cached file that cannot be read (permissions, a folder in its place) is one line, not a stack trace.
async function readable<T>(file: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read the cached corpus ${file}: ${code ?? (e as Error).message}`);
  }
}

/** Whether `file` has a fresh record that agrees with `check`; reads nothing else (for listings). */
export async function isRemembered(file: string, check: Pick<CachedCheck, 'bytes' | 'sha256'>): Promise<boolean> {
  const rec = await readRecord(file);
  if (!rec) return false;
  try {
    const st = await statOf(file);
    return isFresh(rec, st) && (check.bytes === undefined || rec.bytes === check.bytes) && (!check.sha256 || rec.sha256 === check.sha256);
  } catch {
    return false;
  }
}

/** Records that `file` (just written by charnn, or checked) has this sha256. */
export async function remember(file: string, sha256: string): Promise<void> {
  await writeRecord(file, sha256, await statOf(file));
}

// Best effort: a read-only cache folder only means the file is hashed again next time.
async function writeRecord(file: string, sha256: string, st: FileStat): Promise<void> {
  const rec: VerifiedRecord = { bytes: Number(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs), ino: String(st.ino), sha256 };
  await writeAtomically(recordPathFor(file), JSON.stringify(rec) + '\n').catch(() => {});
}

async function readRecord(file: string): Promise<VerifiedRecord | undefined> {
  try {
    const r = JSON.parse(await readFile(recordPathFor(file), 'utf8')) as Partial<VerifiedRecord>;
    const ok = Number.isSafeInteger(r.bytes) && /^[0-9a-f]{64}$/.test(String(r.sha256)) && [r.mtimeNs, r.ctimeNs, r.ino].every((v) => typeof v === 'string');
    return ok ? (r as VerifiedRecord) : undefined;
  } catch {
    return undefined; // none, unreadable or damaged: the file is hashed
  }
}

// ctime too: restoring an mtime (touch -r, cp -p) changes it.
function isFresh(rec: VerifiedRecord, st: FileStat): boolean {
  return rec.bytes === Number(st.size) && rec.mtimeNs === String(st.mtimeNs) && rec.ctimeNs === String(st.ctimeNs) && rec.ino === String(st.ino);
}

/** ": it is an HTML page …" when the file starts like one (an error page saved in the corpus's place), else "". */
export async function htmlNote(file: string): Promise<string> {
  try {
    const fh = await open(file, 'r');
    try {
      const { buffer, bytesRead } = await fh.read(Buffer.alloc(512), 0, 512, 0);
      const head = buffer.subarray(0, bytesRead).toString('latin1').replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart();
      return /^<(!doctype html|html|head|body)\b/i.test(head) ? ': it is an HTML page (an error page saved in its place?)' : '';
    } finally {
      await fh.close();
    }
  } catch {
    return '';
  }
}
