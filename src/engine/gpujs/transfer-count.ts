// Counts what really crosses between host and device, below gpu.js: uploads and downloads of data
// and kernel launches, by wrapping the GL and WebGPU entry points gpu.js calls. Counting our own
// write/read calls would only restate the model code; this catches gpu.js reading a texture back
// or re-uploading an argument behind our back. `bench --speed` reports these per training step
// for each GPU backend (measured in a process of its own: the wrapping is process-wide), and the
// GPU test suite asserts their bounds.
import { createRequire } from 'node:module';

export interface Counts {
  uploads: number;
  /** Reads the host waits for: GL readPixels, WebGPU mapAsync for reading. */
  downloads: number;
  launches: number;
}

export const counts: Counts = { uploads: 0, downloads: 0, launches: 0 };

export function resetCounts(): void {
  counts.uploads = counts.downloads = counts.launches = 0;
}

type Fn = (...args: unknown[]) => unknown;
const wrapped = new Set<string>();

function wrap(proto: Record<string, unknown>, name: string, count: (args: unknown[], self: unknown) => void): void {
  const orig = proto[name] as Fn;
  if (typeof orig !== 'function') throw new Error(`cannot instrument ${name}: not a method`);
  proto[name] = function (this: unknown, ...args: unknown[]) {
    count(args, this);
    return orig.apply(this, args);
  };
}

/**
 * headless-gl: texture uploads with data, readPixels, draw calls (one per gpu.js kernel run). Call
 * it before any context is made: headless-gl copies the methods onto each context it makes.
 */
export function instrumentGl(): void {
  if (wrapped.has('gl')) return;
  const createContext = createRequire(import.meta.url)('gl') as (w: number, h: number) => object | null;
  const ctx = createContext(1, 1);
  if (!ctx) throw new Error('headless-gl made no context (is an X server running? use xvfb-run)');
  const proto = Object.getPrototypeOf(ctx) as Record<string, unknown>;
  wrap(proto, 'texImage2D', (a) => { if (a.length >= 9 && a[8] != null) counts.uploads++; });
  wrap(proto, 'texSubImage2D', () => counts.uploads++);
  wrap(proto, 'bufferData', (a) => { if (typeof a[1] !== 'number') counts.uploads++; });
  wrap(proto, 'readPixels', () => counts.downloads++);
  wrap(proto, 'drawArrays', () => counts.launches++);
  wrapped.add('gl');
}

/** WebGPU: writes into storage buffers (not the uniform parameters), maps for reading, dispatches. */
export async function instrumentWebGpu(): Promise<void> {
  if (wrapped.has('webgpu')) return;
  const { globals } = (await import('webgpu')) as unknown as { globals: Record<string, { prototype: Record<string, unknown> }> };
  const STORAGE = 0x80;
  wrap(globals.GPUQueue!.prototype, 'writeBuffer', (a) => {
    if (((a[0] as { usage: number }).usage & STORAGE) !== 0) counts.uploads++;
  });
  wrap(globals.GPUBuffer!.prototype, 'mapAsync', (a) => { if (((a[0] as number) & 1) !== 0) counts.downloads++; });
  wrap(globals.GPUComputePassEncoder!.prototype, 'dispatchWorkgroups', () => counts.launches++);
  wrapped.add('webgpu');
}

/** Instruments the API a GPU backend name runs on. */
export async function instrument(backend: string): Promise<void> {
  if (backend === 'headlessgl') instrumentGl();
  else if (backend === 'webgpu') await instrumentWebGpu();
  else throw new Error(`no transfer counting for backend ${backend}`);
}
