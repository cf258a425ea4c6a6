// The .ckpt format: a safetensors file (so numpy / Python safetensors read the weights) with
// charnn's own keys in __metadata__:
//   format "charnn", format_version "1",
//   data_sha256   hex sha256 of the data section,
//   header_sha256 hex sha256 of the canonical header (see headerDigest), because a damaged
//                 metadata value (model config, vocabulary) would otherwise load silently.
// Layout: u64 LE header length N, N bytes of JSON padded with spaces to a multiple of 8, then the
// tensors' little-endian bytes, contiguous, in the order they were given.
import { createHash } from 'node:crypto';
import os from 'node:os';

export const FORMAT = 'charnn';
export const FORMAT_VERSION = '1';
/** safetensors refuses headers above 100 MB; anything larger is not a checkpoint. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInput {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface CheckpointInput {
  metadata: Record<string, string>;
  tensors: TensorInput[];
}

export interface LoadedTensor {
  shape: number[];
  data: Float32Array;
}

export interface LoadedCheckpoint {
  metadata: Record<string, string>;
  tensors: Map<string, LoadedTensor>;
}

export interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const LITTLE_ENDIAN = os.endianness() === 'LE';

/**
 * sha256 over a canonical form of the header: metadata without header_sha256 and the tensor
 * entries, both sorted by key, so that key order and padding do not matter.
 */
export function headerDigest(metadata: Record<string, unknown>, entries: Record<string, unknown>): string {
  const meta = Object.entries(metadata).filter(([k]) => k !== 'header_sha256').sort(byKey);
  const tensors = Object.entries(entries).sort(byKey);
  return createHash('sha256').update(JSON.stringify([meta, tensors])).digest('hex');
}

function byKey(a: [string, unknown], b: [string, unknown]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/** The little-endian bytes of `data`: a view on little-endian hosts, a swapped copy otherwise. */
export function leBytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  data.forEach((x, i) => view.setFloat32(i * 4, x, true));
  return out;
}

/** Float32 values from little-endian bytes at a 4-byte aligned offset of `buf`. */
export function fromLeBytes(buf: ArrayBufferLike, byteOffset: number, count: number): Float32Array {
  if (LITTLE_ENDIAN) return new Float32Array(buf, byteOffset, count);
  const view = new DataView(buf, byteOffset, count * 4);
  return Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true));
}
