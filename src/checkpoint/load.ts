import { createHash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { UserError, fileError } from '../errors.js';
import { FORMAT, FORMAT_VERSION, MAX_HEADER_BYTES, fromLeBytes, headerDigest, type LoadedCheckpoint, type LoadedTensor } from './format.js';

export interface CheckpointHeader {
  metadata: Record<string, string>;
  /** Tensors in file order with their byte ranges [begin, end) in the data section. */
  tensors: { name: string; shape: number[]; begin: number; end: number }[];
  /** Where the data section starts; it runs to the end of the file. */
  dataStart: number;
  /** The file's size in bytes. */
  size: number;
}

/**
 * Reads and fully validates a checkpoint; any defect is a one-line UserError naming the file.
 * The tensors are views into one buffer holding the data section (no second copy).
 */
export async function loadCheckpoint(file: string): Promise<LoadedCheckpoint> {
  const fh = await openCheckpoint(file);
  try {
    const h = await readHeader(file, fh);
    const data = await readExactly(file, fh, h.dataStart, h.size - h.dataStart);
    if (createHash('sha256').update(data).digest('hex') !== h.metadata.data_sha256) throw corrupted(file);
    const tensors = new Map<string, LoadedTensor>();
    // Contiguous F32 tensors from offset 0 all start 4-byte aligned, so views are valid.
    for (const r of h.tensors) tensors.set(r.name, { shape: r.shape, data: fromLeBytes(data.buffer, data.byteOffset + r.begin, (r.end - r.begin) / 4) });
    return { metadata: h.metadata, tensors };
  } finally {
    await fh.close();
  }
}

/** The header of a checkpoint, validated as loadCheckpoint validates it, without reading the data. */
export async function readCheckpointHeader(file: string): Promise<CheckpointHeader> {
  const fh = await openCheckpoint(file);
  try {
    return await readHeader(file, fh);
  } finally {
    await fh.close();
  }
}

const VERIFY_CHUNK = 1 << 22; // a multiple of 4, so every piece of a tensor is whole floats

/**
 * Checks the data section against its checksum without holding it in memory: the file is read
 * in pieces, hashed as it goes, and each tensor's values are handed to `visit` piece by piece
 * (a check of their own, which may throw). A checksum mismatch wins over what `visit` found.
 */
export async function verifyCheckpointData(file: string, h: CheckpointHeader, visit?: (name: string, values: Float32Array) => void): Promise<void> {
  const fh = await openCheckpoint(file);
  try {
    if ((await fh.stat()).size !== h.size) throw new UserError(`${file} changed while it was being read; try again`);
    const total = h.size - h.dataStart;
    const buf = Buffer.from(new ArrayBuffer(Math.min(VERIFY_CHUNK, total)));
    const hash = createHash('sha256');
    let found: unknown = null;
    for (let off = 0, t = 0; off < total; ) {
      const n = Math.min(buf.length, total - off);
      await readInto(file, fh, buf, n, h.dataStart + off);
      hash.update(buf.subarray(0, n));
      while (t < h.tensors.length && h.tensors[t].end <= off) t++;
      for (let k = t; visit && !found && k < h.tensors.length && h.tensors[k].begin < off + n; k++) {
        const a = Math.max(off, h.tensors[k].begin), b = Math.min(off + n, h.tensors[k].end);
        try {
          if (b > a) visit(h.tensors[k].name, fromLeBytes(buf.buffer, a - off, (b - a) / 4));
        } catch (e) {
          found = e;
        }
      }
      off += n;
    }
    if (hash.digest('hex') !== h.metadata.data_sha256) throw corrupted(file);
    if (found) throw found;
  } finally {
    await fh.close();
  }
}

const corrupted = (file: string) => new UserError(`${file} is corrupted (checksum mismatch)`);

async function openCheckpoint(file: string): Promise<FileHandle> {
  try {
    // stat before open: opening a named pipe would wait for a writer forever.
    const st = await stat(file);
    if (st.isDirectory()) throw new UserError(`${file} is a directory, expected a checkpoint file`);
    if (!st.isFile()) throw new UserError(`${file} is not a regular file (a pipe or a device), expected a checkpoint file`);
    return await open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UserError(`no such file: ${file}`);
    if (code === 'EISDIR') throw new UserError(`${file} is a directory, expected a checkpoint file`);
    throw fileError(e, file, 'read', 'checkpoint');
  }
}

async function readHeader(file: string, fh: FileHandle): Promise<CheckpointHeader> {
  const fail = (why: string) => new UserError(`${file} ${why}`);
  const notOurs = (why: string) => fail(`is not a charnn checkpoint (${why})`);
  const st = await fh.stat();
  if (st.isDirectory()) throw fail('is a directory, expected a checkpoint file');
  if (!st.isFile()) throw fail('is not a regular file, expected a checkpoint file');
  const size = st.size;
  if (size === 0) throw fail('is empty, not a charnn checkpoint');
  if (size < 8) throw fail(`is too short to be a charnn checkpoint (${size} bytes)`);

  const n64 = (await readExactly(file, fh, 0, 8)).readBigUInt64LE(0);
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw notOurs('no safetensors header');
  const n = Number(n64);
  if (8 + n > size) throw fail(`is truncated (expected at least ${8 + n} bytes, found ${size})`);

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await readExactly(file, fh, 8, n)));
  } catch {
    throw notOurs('its header is not valid JSON');
  }
  if (!isPlainObject(header)) throw notOurs('its header is not a JSON object');
  const { __metadata__: meta, ...entries } = header;
  if (!isPlainObject(meta) || meta.format !== FORMAT) throw fail('is not a charnn checkpoint');
  if (meta.format_version !== FORMAT_VERSION) {
    throw fail(`has checkpoint format version ${JSON.stringify(meta.format_version)}; this charnn reads version ${FORMAT_VERSION}`);
  }
  if (typeof meta.header_sha256 !== 'string' || meta.header_sha256 !== headerDigest(meta, entries)) {
    throw fail('is corrupted (header checksum mismatch)');
  }
  for (const [k, v] of Object.entries(meta)) if (typeof v !== 'string') throw fail(`is corrupted (metadata "${k}" is not a string)`);

  const ranges: CheckpointHeader['tensors'] = [];
  for (const [name, e] of Object.entries(entries)) {
    const bad = (why: string) => fail(`is corrupted (tensor "${name}": ${why})`);
    if (!isPlainObject(e)) throw bad('entry is not an object');
    if (e.dtype !== 'F32') throw fail(`has tensor "${name}" of unsupported dtype ${JSON.stringify(e.dtype)} (charnn reads F32)`);
    const { shape, data_offsets: off } = e;
    if (!Array.isArray(shape) || !shape.every(isCount)) throw bad(`invalid shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(off) || off.length !== 2 || !off.every(isCount) || off[0] > off[1]) {
      throw bad(`invalid data_offsets ${JSON.stringify(off)}`);
    }
    const bytes = 4 * shape.reduce((a: number, b: number) => a * b, 1);
    if (bytes !== off[1] - off[0]) throw bad(`shape [${shape}] needs ${bytes} bytes but its range holds ${off[1] - off[0]}`);
    ranges.push({ name, begin: off[0], end: off[1], shape });
  }
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let end = 0;
  for (const r of ranges) {
    if (r.begin < end) throw fail(`is corrupted (tensor "${r.name}" overlaps another)`);
    if (r.begin > end) throw fail(`is corrupted (gap in the data before tensor "${r.name}")`);
    end = r.end;
  }
  const expected = 8 + n + end;
  if (size < expected) throw fail(`is truncated (expected ${expected} bytes, found ${size})`);
  if (size > expected) throw fail(`is corrupted (${size - expected} unexpected bytes after the data; expected ${expected} bytes, found ${size})`);
  return { metadata: meta as Record<string, string>, tensors: ranges, dataStart: 8 + n, size };
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isCount(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

// A buffer of its own (byteOffset 0), so Float32Array views over it are aligned.
async function readExactly(file: string, fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.from(new ArrayBuffer(length));
  await readInto(file, fh, buf, length, position);
  return buf;
}

async function readInto(file: string, fh: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  for (let off = 0; off < length; ) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await fh.read(buf, off, Math.min(length - off, 1 << 26), position + off));
    } catch (e) {
      throw fileError(e, file, 'read', 'checkpoint');
    }
    if (bytesRead === 0) throw new UserError(`${file} changed while it was being read; try again`);
    off += bytesRead;
  }
}
