// What `--backend auto` and `bench --speed` know about the backends here. auto takes a GPU
// backend only when it works *and* trains faster than the cpu engine at the model's own shapes:
// a GPU reached through a software renderer, or a small model on a slow GPU, loses to cpu. The
// measurement is short but not free (GPU kernels compile on first use), so its result is cached
// per machine, installed GPU packages and model shape.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeDirs } from '../make-dirs.js';
import { packageRoot } from '../package-root.js';
import { webgpuVersion } from '../engine/gpujs/webgpu-node.js';
import { probeInChild, type ProbeAnswer, type ProbeShape } from './probe.js';

export const GPU_BACKENDS = ['webgpu', 'headlessgl'] as const;
export type GpuBackend = (typeof GPU_BACKENDS)[number];

/** A backend's probe as `bench --speed` and auto read it: its name, whether it works, and what the probe measured. */
export interface BackendStatus extends Omit<ProbeAnswer, 'ok'> {
  backend: string;
  works: boolean;
}

export interface AutoChoice {
  backend: 'cpu' | GpuBackend;
  reason: string;
  statuses: BackendStatus[];
  cached: boolean;
}

export interface AutoOptions {
  threads: number;
  /** Where the cache lives (default: $CHARNN_CACHE_DIR, else $XDG_CACHE_HOME/charnn, else ~/.cache/charnn). */
  cacheDir?: string;
  /** Ignore and overwrite a cached answer. */
  refresh?: boolean;
  /**
   * The batch a GPU would train at, where it differs from the shape's (a model sized to a time
   * budget trains at a larger batch on a GPU): GPU backends are measured at it, cpu at the shape's.
   */
  gpuBatch?: number;
}

export interface ProbeOptions {
  threads?: number;
  /** Also sampling chars/s. */
  sample?: boolean;
  /** Longest the measurement may take, ms (probe.ts: MEASURE_DEADLINE_MS). */
  measureMs?: number;
}

/** Probes one backend in its own process; with a shape, also measures its training speed (and, on a GPU, counts). */
export async function probeBackend(backend: string, shape: ProbeShape | null, o: ProbeOptions = {}): Promise<BackendStatus> {
  const a = await probeInChild({ backend, threads: o.threads, shape: shape ?? undefined, sample: o.sample }, undefined, o.measureMs);
  return {
    backend, works: a.ok, reason: a.reason, charsPerSec: a.charsPerSec, ...(a.bound ? { bound: true } : {}), ...(a.software ? { software: true } : {}),
    ...(a.counts ? { counts: a.counts } : {}), ...(a.sampleCharsPerSec !== undefined ? { sampleCharsPerSec: a.sampleCharsPerSec } : {}),
  };
}

/** Every backend: whether it works here and why not; chars/s for those in `measure`. */
export async function listBackends(shape: ProbeShape, opts: { threads?: number; measure?: readonly string[] } = {}): Promise<BackendStatus[]> {
  const measure = opts.measure ?? ['cpu', ...GPU_BACKENDS];
  const all = ['cpu', ...GPU_BACKENDS, 'gpujs-webasm', 'gpujs-cpu', 'js'];
  const out: BackendStatus[] = [];
  for (const b of all) out.push(await probeBackend(b, measure.includes(b) ? shape : null, { threads: opts.threads }));
  return out;
}

export async function chooseAuto(shape: ProbeShape, o: AutoOptions): Promise<AutoChoice> {
  const file = path.join(cacheDir(o.cacheDir), 'backend-probe.json');
  const key = cacheKey(shape, o.threads, o.gpuBatch);
  const cache = readCache(file);
  let statuses = o.refresh ? undefined : cache[key]?.statuses;
  const cached = statuses !== undefined;
  if (!statuses) {
    // First whether any real GPU works at all (fast); only then measure it and cpu at the shape.
    const gpus: BackendStatus[] = [];
    for (const b of GPU_BACKENDS) gpus.push(await probeBackend(b, null, { threads: o.threads }));
    const real = gpus.filter((g) => g.works && !g.software);
    const simd = real.length ? await probeBackend('cpu', shape, { threads: o.threads }) : { backend: 'cpu', works: true };
    statuses = [simd];
    // One at a time: measurements running side by side would slow each other down.
    const gpuShape = { ...shape, batch: o.gpuBatch ?? shape.batch };
    for (const g of gpus) statuses.push(real.includes(g) && simd.works ? await probeBackend(g.backend, gpuShape, { threads: o.threads }) : g);
    cache[key] = { at: new Date().toISOString(), statuses };
    await writeCache(file, cache);
  }
  return { ...decide(statuses, o.threads), statuses, cached };
}

/** The fastest working GPU backend if it beats cpu, else cpu; with the reason in words. */
export function decide(statuses: BackendStatus[], threads: number): { backend: AutoChoice['backend']; reason: string } {
  const simd = statuses.find((s) => s.backend === 'cpu');
  const simdSpeed = simd?.works ? simd.charsPerSec ?? 0 : 0;
  const gpus = statuses.filter((s) => (GPU_BACKENDS as readonly string[]).includes(s.backend));
  // A bound (the measurement ran out of time) is never evidence that a GPU is faster.
  const working = gpus.filter((s) => s.works && !s.software && (s.charsPerSec ?? 0) > 0).sort((a, b) => b.charsPerSec! - a.charsPerSec!);
  const fast = working.filter((s) => !s.bound);
  const simdName = `the cpu engine (WebAssembly SIMD) with ${threads} thread${threads === 1 ? '' : 's'}`;
  const best = working[0];
  if (fast[0] && fast[0].charsPerSec! > simdSpeed) {
    const g = fast[0];
    return { backend: g.backend as GpuBackend, reason: `gpu.js ${g.backend} trains this model at ${fmt(g.charsPerSec!)} chars/s, faster than cpu (${fmt(simdSpeed)})` };
  }
  if (best?.bound) {
    return { backend: 'cpu', reason: `${simdName} (${fmt(simdSpeed)} chars/s): gpu.js ${best.backend} works but is slower here (${best.reason})` };
  }
  if (best) {
    return { backend: 'cpu', reason: `${simdName}: it trains this model at ${fmt(simdSpeed)} chars/s, faster than gpu.js ${best.backend} (${fmt(best.charsPerSec!)})` };
  }
  const why = gpus.map((s) => `${s.backend}: ${s.reason ?? 'not measured'}`).join('; ');
  if (gpus.some((s) => s.software)) return { backend: 'cpu', reason: `${simdName}: no GPU here (${why})` };
  return { backend: 'cpu', reason: `${simdName}: no GPU backend works here (${why})` };
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

function cacheDir(dir?: string): string {
  if (dir) return dir;
  if (process.env.CHARNN_CACHE_DIR) return process.env.CHARNN_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'charnn');
}

/** What the answer depends on: the machine, the runtime, the GPU packages installed, the shape. */
function cacheKey(shape: ProbeShape, threads: number, gpuBatch?: number): string {
  const cpus = os.cpus();
  const glBuilt = existsSync(path.join(packageRoot(), 'node_modules', 'gl', 'build', 'Release', 'webgl.node'));
  return JSON.stringify({
    host: os.hostname(), cpu: cpus[0]?.model ?? '?', cores: cpus.length, platform: `${process.platform}-${process.arch}`,
    node: process.version, webgpu: webgpuVersion(), gl: glBuilt, display: !!process.env.DISPLAY, threads,
    config: shape.config, batch: shape.batch, seq: shape.seq, gpuBatch: gpuBatch ?? null,
  });
}

type Cache = Record<string, { at: string; statuses: BackendStatus[] }>;

function readCache(file: string): Cache {
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return c && typeof c === 'object' && !Array.isArray(c) ? (c as Cache) : {};
  } catch {
    return {};
  }
}

/** Best effort: a cache that cannot be written only costs the next run a probe. */
async function writeCache(file: string, cache: Cache): Promise<void> {
  try {
    // Not mkdir -p: a cache folder under /proc would make it spin forever (src/make-dirs.ts).
    await makeDirs(path.dirname(file));
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(cache, null, 1));
    renameSync(tmp, file);
  } catch {
    // ignored on purpose, see above
  }
}
