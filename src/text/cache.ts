// Where corpora are cached, shared by the embedded Brown corpus and the catalogue's downloads:
// --corpus-dir, else CHARNN_CORPORA, else the package's corpora/ folder, falling back to
// ~/.cache/charnn/corpora when the package folder is read-only (a global install).
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UserError, fileProblem } from '../errors.js';
import { makeDirs } from '../make-dirs.js';
import { packageRoot } from '../package-root.js';

export interface CacheOptions {
  /** --corpus-dir: the one folder to use. */
  corpusDir?: string;
  /** Read for CHARNN_CORPORA; process.env by default. */
  env?: Record<string, string | undefined>;
}

/** Folders a corpus may be cached in, most preferred first. */
export function corpusCacheDirs(opts: CacheOptions = {}): string[] {
  if (opts.corpusDir) return [path.resolve(opts.corpusDir)];
  const fromEnv = (opts.env ?? process.env).CHARNN_CORPORA;
  if (fromEnv) return [path.resolve(fromEnv)];
  return [path.join(packageRoot(), 'corpora'), path.join(os.homedir(), '.cache', 'charnn', 'corpora')];
}

/**
 * The `charnn corpus get` command to suggest in a message, naming the cache folder the user chose
 * (by flag or by CHARNN_CORPORA), so that following it looks where this run looked.
 */
export function getCommand(name: string, opts: CacheOptions = {}): string {
  const chosen = opts.corpusDir || (opts.env ?? process.env).CHARNN_CORPORA;
  return `charnn corpus get ${name}` + (chosen ? ` --corpus-dir ${shellWord(path.resolve(chosen))}` : '');
}

// A path as one shell word: quoted only when it needs to be.
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The first of `files` that exists as a non-empty regular file. */
export async function findCached(files: string[]): Promise<string | undefined> {
  for (const file of files) if (await isNonEmptyFile(file)) return file;
  return undefined;
}

/** The first of `dirs` that exists or can be created, and can be written. */
export async function writableDir(dirs: string[]): Promise<string> {
  const failures: string[] = [];
  for (const dir of dirs) {
    try {
      await makeDirs(dir);
      await access(dir, constants.W_OK);
      return dir;
    } catch (e) {
      failures.push(`${dir} (${fileProblem(e, 'create folder')?.why ?? (e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }
  throw new UserError(`no writable corpus folder among ${failures.join(', ')}; choose one with --corpus-dir or CHARNN_CORPORA`);
}

export async function isNonEmptyFile(file: string): Promise<boolean> {
  try {
    const st = await stat(file);
    return st.isFile() && st.size > 0;
  } catch {
    return false;
  }
}

/** A fresh name beside `file` for a temporary that a rename will turn into `file`. */
export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

// Readers never see a half-written cache: concurrent writers each write their own temporary file
// and the last rename wins with identical content.
export async function writeAtomically(file: string, data: string | Uint8Array): Promise<void> {
  await makeDirs(path.dirname(file));
  const tmp = tempPathFor(file);
  try {
    await writeFile(tmp, data, { flag: 'wx' });
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
