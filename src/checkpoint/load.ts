import { createHash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { FORMAT, FORMAT_VERSION, MAX_HEADER_BYTES, fromLeBytes, headerDigest, type LoadedCheckpoint, type LoadedTensor } from './format.js';

/**
 * Reads and fully validates a checkpoint; any defect is a one-line UserError naming the file.
 * The tensors are views into one buffer holding the data section (no second copy).
 */
export async function loadCheckpoint(file: string): Promise<LoadedCheckpoint> {
  const fail = (why: string) => new UserError(`${file} ${why}`);
  const notOurs = (why: string) => fail(`is not a charnn checkpoint (${why})`);
  let fh: FileHandle;
  try {
    // stat before open: opening a named pipe would wait for a writer forever.
    const st = await stat(file);
    if (st.isDirectory()) throw fail('is a directory, expected a checkpoint file');
    if (!st.isFile()) throw fail('is not a regular file (a pipe or a device), expected a checkpoint file');
    fh = await open(file, 'r');
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UserError(`no such file: ${file}`);
    if (code === 'EACCES' || code === 'EPERM') throw fail('cannot be read (permission denied)');
    if (code === 'EISDIR') throw fail('is a directory, expected a checkpoint file');
    throw e;
  }
  try {
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

    const ranges: { name: string; begin: number; end: number; shape: number[] }[] = [];
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

    const data = await readExactly(file, fh, 8 + n, end);
    if (createHash('sha256').update(data).digest('hex') !== meta.data_sha256) throw fail('is corrupted (checksum mismatch)');
    const tensors = new Map<string, LoadedTensor>();
    // Contiguous F32 tensors from offset 0 all start 4-byte aligned, so views are valid.
    for (const r of ranges) tensors.set(r.name, { shape: r.shape, data: fromLeBytes(data.buffer, data.byteOffset + r.begin, (r.end - r.begin) / 4) });
    return { metadata: meta as Record<string, string>, tensors };
  } finally {
    await fh.close();
  }
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
  for (let off = 0; off < length; ) {
    const { bytesRead } = await fh.read(buf, off, Math.min(length - off, 1 << 26), position + off);
    if (bytesRead === 0) throw new UserError(`${file} changed while it was being read; try again`);
    off += bytesRead;
  }
  return buf;
}
