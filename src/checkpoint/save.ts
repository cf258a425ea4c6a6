import { randomBytes, createHash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fileError } from '../errors.js';
import { processAlive } from './lock.js';
import { FORMAT, FORMAT_VERSION, headerDigest, leBytes, type CheckpointInput, type HeaderEntry } from './format.js';

export interface SaveOptions {
  /** Test hook: runs before each tensor is written; a throw simulates a failing write. */
  beforeTensorWrite?: (index: number) => void | Promise<void>;
}

/**
 * Temporary files of saves in progress. A process that must exit at once (a second Ctrl-C)
 * removes them synchronously, so an abandoned save leaves nothing behind.
 */
export const savesInFlight = new Set<string>();

const WRITE_CHUNK = 1 << 26; // single writes above 2 GiB fail, so large tensors go in pieces

/**
 * Writes a checkpoint atomically: a temporary file in the same folder, fsync, rename over `file`,
 * fsync of the folder. On failure the temporary file is removed and whatever was at `file`
 * before is untouched. Tensor data is written from the caller's arrays without copies.
 */
export async function saveCheckpoint(file: string, ckpt: CheckpointInput, opts: SaveOptions = {}): Promise<void> {
  const entries: Record<string, HeaderEntry> = {};
  const hash = createHash('sha256');
  let offset = 0;
  for (const t of ckpt.tensors) {
    checkTensor(t.name, t.shape, t.data, entries);
    const bytes = leBytes(t.data);
    hash.update(bytes);
    entries[t.name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
  }
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(ckpt.metadata)) {
    if (typeof v !== 'string') throw new TypeError(`checkpoint metadata "${k}" must be a string, got ${typeof v}`);
    metadata[k] = v;
  }
  Object.assign(metadata, { format: FORMAT, format_version: FORMAT_VERSION, data_sha256: hash.digest('hex') });
  metadata.header_sha256 = headerDigest(metadata, entries);

  const json = Buffer.from(JSON.stringify({ __metadata__: metadata, ...entries }), 'utf8');
  const headerLen = Math.ceil(json.length / 8) * 8;
  const head = Buffer.alloc(8 + headerLen, 0x20);
  head.writeBigUInt64LE(BigInt(headerLen), 0);
  json.copy(head, 8);

  const dir = path.dirname(path.resolve(file));
  await removeStaleTemporaries(dir, path.basename(file));
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  let fh: FileHandle | undefined;
  try {
    savesInFlight.add(tmp);
    // Created synchronously, on this thread: a hard exit that removes savesInFlight can then never
    // race a file creation still running on libuv's thread pool. The async open below only
    // reopens it (and fails harmlessly if the exit path removed it).
    closeSync(openSync(tmp, 'wx', 0o644));
    fh = await open(tmp, 'r+');
    let pos = await writeAll(fh, head, 0);
    for (let i = 0; i < ckpt.tensors.length; i++) {
      await opts.beforeTensorWrite?.(i);
      pos = await writeAll(fh, leBytes(ckpt.tensors[i].data), pos);
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, file);
  } catch (e) {
    await fh?.close().catch(() => {});
    await rm(tmp, { force: true }).catch(() => {});
    throw fileError(e, file, 'write', 'checkpoint');
  } finally {
    savesInFlight.delete(tmp);
  }
  await syncDir(dir);
}

/**
 * Temporary files of saves whose process died (kill -9, a crash, power loss) are removed when the
 * same checkpoint is saved again, so they never pile up. Live processes' files are left alone.
 */
export async function removeStaleTemporaries(dir: string, base: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return; // the write below reports a missing folder
  }
  const prefix = `.${base}.tmp-`;
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number.parseInt(name.slice(prefix.length), 10);
    if (pid !== process.pid && !processAlive(pid)) await rm(path.join(dir, name), { force: true }).catch(() => {});
  }
}

function checkTensor(name: string, shape: number[], data: Float32Array, seen: Record<string, unknown>): void {
  if (typeof name !== 'string' || name === '' || name === '__metadata__') throw new TypeError(`invalid tensor name ${JSON.stringify(name)}`);
  if (Object.hasOwn(seen, name)) throw new TypeError(`duplicate tensor name "${name}"`);
  if (!(data instanceof Float32Array)) throw new TypeError(`tensor "${name}" data must be a Float32Array`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new TypeError(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new RangeError(`tensor "${name}": shape [${shape}] has ${count} elements, data has ${data.length}`);
}

async function writeAll(fh: FileHandle, bytes: Uint8Array, pos: number): Promise<number> {
  for (let off = 0; off < bytes.length; ) {
    const n = Math.min(WRITE_CHUNK, bytes.length - off);
    const { bytesWritten } = await fh.write(bytes, off, n, pos);
    off += bytesWritten;
    pos += bytesWritten;
  }
  return pos;
}

// Makes the rename itself durable. Some platforms cannot open or fsync a folder; the file is
// already in place then, so that is not an error.
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // best effort
  } finally {
    await fh?.close().catch(() => {});
  }
}
