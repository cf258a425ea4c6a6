// navigator.gpu for gpu.js's webgpu mode, from the `webgpu` package (Dawn), which Node does not
// have built in. Two facts of common Linux systems shape it:
// - webgpu 0.2.9 (what gpu.js itself pins) needs glibc 2.38 and fails to load on Debian 12 and
//   Ubuntu 22.04; charnn depends on a newer build (0.6.x), which the top-level import resolves to.
// - Dawn's Vulkan backend rejects old Mesa lavapipe (22.x) on a CPU-only machine, while its OpenGL
//   ES backend runs on llvmpipe through EGL without any display, in WebGPU "compatibility" mode.
// So adapters are tried in order: Dawn's default backends, then OpenGL ES. The first that answers
// is the one navigator.gpu hands gpu.js (which calls requestAdapter() without arguments).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { firstLine } from './reason.js';

interface Attempt {
  label: string;
  flags: string[];
  adapterOptions: Record<string, unknown>;
  env?: Record<string, string>;
}

const ATTEMPTS: Attempt[] = [
  { label: 'default', flags: [], adapterOptions: {} },
  {
    label: 'OpenGL ES (compatibility)',
    flags: ['backend=opengles'],
    adapterOptions: { featureLevel: 'compatibility' },
    // EGL without a display: no X server is needed for software or headless GPU rendering.
    env: { EGL_PLATFORM: 'surfaceless' },
  },
];

export interface WebGpuInfo {
  /** The `webgpu` package version that loaded. */
  packageVersion: string;
  /** Which Dawn backend gave the adapter: "default" or "OpenGL ES (compatibility)". */
  via: string;
  /** The adapter's own description (driver, device), as Dawn reports it. */
  adapter: string;
}

type Installed = { ok: true; info: WebGpuInfo } | { ok: false; reason: string };

let installing: Promise<Installed> | null = null;

/** Makes navigator.gpu available once per process; resolves with what answered, or why nothing did. */
export function installWebGpu(): Promise<Installed> {
  installing ??= install();
  return installing;
}

async function install(): Promise<Installed> {
  const version = webgpuVersion();
  let dawn: typeof import('webgpu');
  try {
    dawn = await import('webgpu');
  } catch (e) {
    const why = firstLine(e);
    const hint = /GLIBC/.test(why) ? ' (charnn needs webgpu 0.6 or newer on glibc older than 2.38: npm install webgpu@0.6.2)' : '';
    return { ok: false, reason: `the webgpu package ${version ?? '(not installed)'} (Dawn) did not load: ${why}${hint}` };
  }
  const tried: string[] = [];
  for (const a of ATTEMPTS) {
    for (const [k, v] of Object.entries(a.env ?? {})) process.env[k] ??= v;
    try {
      const instance = dawn.create(a.flags);
      const adapter = await instance.requestAdapter(a.adapterOptions as GPURequestAdapterOptions);
      if (!adapter) {
        tried.push(`${a.label}: no adapter`);
        continue;
      }
      for (const [name, value] of Object.entries(dawn.globals as object)) {
        if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
      }
      setNavigatorGpu(wrap(instance, adapter));
      const desc = describe(adapter);
      return { ok: true, info: { packageVersion: version ?? 'unknown', via: a.label, adapter: desc } };
    } catch (e) {
      tried.push(`${a.label}: ${firstLine(e)}`);
    }
  }
  return { ok: false, reason: `the webgpu package ${version ?? ''} loaded but no WebGPU adapter answered (${tried.join('; ')})` };
}

/**
 * A GPU object whose requestAdapter() answers with the adapter found here. Asking Dawn again
 * would redo the backend discovery, which fails once headless-gl has taken EGL (see modes.ts);
 * gpu.js asks for one device per process, so one adapter serves it.
 */
function wrap(instance: GPU, adapter: GPUAdapter): GPU {
  return {
    requestAdapter: async () => adapter,
    getPreferredCanvasFormat: () => instance.getPreferredCanvasFormat(),
    get wgslLanguageFeatures() {
      return instance.wgslLanguageFeatures;
    },
  } as GPU;
}

function setNavigatorGpu(gpu: GPU): void {
  const g = globalThis as { navigator?: object };
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
}

function describe(adapter: GPUAdapter): string {
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  if (!info) return 'unknown adapter';
  const parts = [info.description, info.device, info.vendor].filter((s) => typeof s === 'string' && s.trim() !== '');
  return parts.length ? parts.join(', ') : 'unknown adapter';
}

/** The version of the `webgpu` package the import below resolves to, or null when none is installed. */
export function webgpuVersion(): string | null {
  try {
    const require = createRequire(import.meta.url);
    // The package's exports may hide package.json, so find it beside the resolved entry point.
    let dir = path.dirname(require.resolve('webgpu'));
    for (let i = 0; i < 4; i++) {
      try {
        const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'webgpu') return pkg.version ?? null;
      } catch {
        // not here; look one folder up
      }
      dir = path.dirname(dir);
    }
    return null;
  } catch {
    return null;
  }
}
