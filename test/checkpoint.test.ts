import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { headerDigest } from '../src/checkpoint/format.js';
import { loadCheckpoint } from '../src/checkpoint/load.js';
import { saveCheckpoint } from '../src/checkpoint/save.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'charnn-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (name = 'm.ckpt') => {
  const d = path.join(dir, `case${n++}`);
  mkdirSync(d);
  return path.join(d, name);
};

function sample() {
  const special = new Float32Array(new Uint32Array([
    0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x7f800000, 0xff800000, 0x7fc00001, 0xffb12345, 0x3f800000,
  ]).buffer);
  const random = Float32Array.from({ length: 6 * 7 }, () => (Math.random() - 0.5) * 1e3);
  const flat = new Float32Array(100).map((_, i) => i);
  return {
    metadata: { config: JSON.stringify({ model: 'lstm', hidden: 7 }), vocab: JSON.stringify([10, 97, 0x1f600]), note: 'ünïcødé 😀' },
    tensors: [
      { name: 'special', shape: [9], data: special },
      { name: 'w', shape: [6, 7], data: random },
      { name: 'view', shape: [2, 5], data: flat.subarray(30, 40) }, // a view into a larger buffer
      { name: 'scalar', shape: [], data: new Float32Array([3.5]) },
      { name: 'empty', shape: [0, 4], data: new Float32Array(0) },
    ],
  };
}

async function refuses(file: string, fragment: string): Promise<void> {
  const e = await loadCheckpoint(file).then(() => undefined, (err) => err);
  expect(e).toBeInstanceOf(UserError);
  expect(e.message).toContain(file);
  expect(e.message).toContain(fragment);
  expect(e.message).not.toContain('\n');
}

/** Writes a safetensors file with the given header (checksums made valid unless overridden). */
function craft(file: string, entries: Record<string, unknown>, data: Uint8Array, meta: Record<string, string> = {}): void {
  const metadata: Record<string, string> = { format: 'charnn', format_version: '1', data_sha256: createHash('sha256').update(data).digest('hex'), ...meta };
  if (!('header_sha256' in meta)) metadata.header_sha256 = headerDigest(metadata, entries);
  const json = Buffer.from(JSON.stringify({ __metadata__: metadata, ...entries }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(file, Buffer.concat([len, json, data]));
}

describe('checkpoint round trip', () => {
  it('restores bit-identical tensors and the metadata', async () => {
    const file = fresh();
    const ckpt = sample();
    await saveCheckpoint(file, ckpt);
    const raw = readFileSync(file);
    const headerLen = Number(raw.readBigUInt64LE(0));
    expect(headerLen % 8).toBe(0);
    expect(raw.length).toBe(8 + headerLen + 4 * (9 + 42 + 10 + 1));

    const back = await loadCheckpoint(file);
    expect(back.metadata).toMatchObject(ckpt.metadata);
    expect(back.metadata.format).toBe('charnn');
    expect(back.metadata.format_version).toBe('1');
    expect(back.metadata.data_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect([...back.tensors.keys()].sort()).toEqual(ckpt.tensors.map((t) => t.name).sort());
    for (const t of ckpt.tensors) {
      const got = back.tensors.get(t.name)!;
      expect(got.shape).toEqual(t.shape);
      expect(Array.from(new Uint32Array(got.data.slice().buffer))).toEqual(Array.from(new Uint32Array(t.data.slice().buffer)));
    }
    // Written in the given order, contiguously.
    const header = JSON.parse(raw.subarray(8, 8 + headerLen).toString());
    expect(ckpt.tensors.map((t) => header[t.name].data_offsets)).toEqual([[0, 36], [36, 204], [204, 244], [244, 248], [248, 248]]);
  });

  it('overwrites an existing checkpoint and leaves no temporary file', async () => {
    const file = fresh();
    await saveCheckpoint(file, sample());
    await saveCheckpoint(file, { metadata: { step: '2' }, tensors: [{ name: 'a', shape: [1], data: new Float32Array([1]) }] });
    expect((await loadCheckpoint(file)).metadata.step).toBe('2');
    expect(readdirSync(path.dirname(file))).toEqual(['m.ckpt']);
  });

  it('refuses invalid input as a programming error', async () => {
    const t = (name: string, shape: number[], len: number) => ({ name, shape, data: new Float32Array(len) });
    await expect(saveCheckpoint(fresh(), { metadata: {}, tensors: [t('a', [2, 3], 5)] })).rejects.toThrow(RangeError);
    await expect(saveCheckpoint(fresh(), { metadata: {}, tensors: [t('a', [1], 1), t('a', [1], 1)] })).rejects.toThrow(/duplicate/);
    await expect(saveCheckpoint(fresh(), { metadata: { x: 1 as unknown as string }, tensors: [] })).rejects.toThrow(TypeError);
  });
});

describe('atomic save', () => {
  it('keeps the previous file when a write fails, and cleans up', async () => {
    const file = fresh();
    await saveCheckpoint(file, sample());
    const before = readFileSync(file);
    const failing = saveCheckpoint(file, sample(), {
      beforeTensorWrite: (i) => {
        if (i === 2) throw Object.assign(new Error('simulated ENOSPC'), { code: 'ENOSPC' });
      },
    });
    await expect(failing).rejects.toThrow(`cannot write checkpoint ${file}: no space left on the device`);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(readdirSync(path.dirname(file))).toEqual(['m.ckpt']);
    await loadCheckpoint(file);
  });

  it('fails cleanly where it cannot write', async () => {
    const parentIsFile = path.join(fresh('plain'), 'm.ckpt');
    writeFileSync(path.dirname(parentIsFile), 'x');
    await expect(saveCheckpoint(parentIsFile, sample())).rejects.toThrow(/cannot write checkpoint .*a parent of it is not a folder/);
    await expect(saveCheckpoint(path.join(dir, 'missing', 'm.ckpt'), sample())).rejects.toThrow(/its folder does not exist/);
    const target = fresh('dir.ckpt');
    mkdirSync(target);
    writeFileSync(path.join(target, 'keep'), 'x');
    await expect(saveCheckpoint(target, sample())).rejects.toThrow(UserError); // fails at the rename
    expect(readdirSync(path.dirname(target))).toEqual(['dir.ckpt']);
  });
});

describe('strict load', () => {
  it('refuses missing files, directories and foreign files', async () => {
    await refuses(path.join(dir, 'nope.ckpt'), 'no such file');
    await refuses(dir, 'is a directory');
    const put = (content: string | Uint8Array) => {
      const f = fresh();
      writeFileSync(f, content);
      return f;
    };
    await refuses(put(''), 'is empty, not a charnn checkpoint');
    await refuses(put('abc'), 'too short to be a charnn checkpoint (3 bytes)');
    await refuses(put('hello, this is a plain text file\n'), 'is not a charnn checkpoint');
    await refuses(put(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48])), 'is not a charnn checkpoint');
    const notJson = Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{no}')]);
    await refuses(put(notJson), 'header is not valid JSON');
    const foreign = fresh();
    const json = Buffer.from(JSON.stringify({ __metadata__: { by: 'torch' }, w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(foreign, Buffer.concat([len, json, Buffer.alloc(4)]));
    await refuses(foreign, `${foreign} is not a charnn checkpoint`);
  });

  it('refuses truncated files', async () => {
    const file = fresh();
    await saveCheckpoint(file, sample());
    const full = readFileSync(file);
    const headerEnd = 8 + Number(full.readBigUInt64LE(0));
    for (const [cut, fragment] of [
      [full.length - 1, `is truncated (expected ${full.length} bytes, found ${full.length - 1})`],
      [headerEnd, 'is truncated'],
      [headerEnd - 10, `is truncated (expected at least ${headerEnd} bytes`],
      [5, 'too short'],
    ] as const) {
      writeFileSync(file, full);
      truncateSync(file, cut);
      await refuses(file, fragment);
    }
  });

  it('detects a flipped byte in the data and in the header', async () => {
    const file = fresh();
    await saveCheckpoint(file, sample());
    const full = readFileSync(file);
    const headerEnd = 8 + Number(full.readBigUInt64LE(0));
    for (const at of [headerEnd, full.length - 5]) {
      const bad = Buffer.from(full);
      bad[at] ^= 0x10;
      writeFileSync(file, bad);
      await refuses(file, 'is corrupted (checksum mismatch)');
    }
    // Every byte of the JSON (not its padding) matters: each flip is refused, whatever breaks.
    const json = full.subarray(8, headerEnd).toString().trimEnd();
    for (let at = 8; at < 8 + json.length; at += 7) {
      const bad = Buffer.from(full);
      bad[at] ^= 0x01;
      writeFileSync(file, bad);
      await expect(loadCheckpoint(file), `flip at ${at}`).rejects.toThrow(UserError);
    }
    const inValue = full.indexOf('lstm');
    const bad = Buffer.from(full);
    bad[inValue] = 'g'.charCodeAt(0); // "gstm": still valid JSON, only the header checksum sees it
    writeFileSync(file, bad);
    await refuses(file, 'is corrupted (header checksum mismatch)');
  });

  it('refuses inconsistent headers', async () => {
    const f32 = (b: number, e: number, shape = [(e - b) / 4]) => ({ dtype: 'F32', shape, data_offsets: [b, e] });
    const cases: [Record<string, unknown>, number, string, Record<string, string>?][] = [
      [{ a: f32(0, 8) }, 8, 'has checkpoint format version "2"', { format_version: '2' }],
      [{ a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, 4, 'unsupported dtype "F16"'],
      [{ a: f32(0, 8, [3]) }, 8, 'shape [3] needs 12 bytes but its range holds 8'],
      [{ a: f32(0, 8), b: f32(4, 12) }, 12, 'overlaps'],
      [{ a: f32(0, 4), b: f32(8, 12) }, 12, 'gap in the data'],
      [{ a: f32(0, 4) }, 8, '4 unexpected bytes after the data'],
      [{ a: f32(0, 12) }, 8, 'is truncated (expected'],
      [{ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4, 'invalid shape'],
      [{ a: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, 4, 'invalid data_offsets'],
    ];
    for (const [entries, bytes, fragment, meta] of cases) {
      const f = fresh();
      craft(f, entries, new Uint8Array(bytes), meta);
      await refuses(f, fragment);
    }
    const ok = fresh();
    craft(ok, { b: f32(4, 8), a: f32(0, 4) }, new Uint8Array(8));
    expect([...(await loadCheckpoint(ok)).tensors.keys()]).toEqual(['a', 'b']);
  });
});
