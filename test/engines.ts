// Every backend the test suite runs model-level checks through.
//
// CHARNN_GPU_MODES=headlessgl,webgpu (set by scripts/test-gpu.sh) runs the same suites through
// those gpu.js GPU modes instead of the CPU engines: the GPU run checks the GPU path, and the
// default run (npm test) stays as fast as before.
import type { Engine } from '../src/engine/engine-api.js';
import { createJsEngine } from '../src/engine/js/js-engine.js';
import gpujs from 'gpu.js';
import { checkedEngine } from '../src/engine/op-layer.js';
import { DeviceBackend } from '../src/engine/gpujs/device.js';
import { GpuJsEngine } from '../src/engine/gpujs/gpujs-engine.js';
import { createGpuJsEngine, gpuJsBackendName, type GpuJsMode } from '../src/engine/gpujs/index.js';
import { createSimdEngine } from '../src/engine/simd/simd-engine.js';

export interface EngineFactory {
  name: string;
  create: () => Promise<Engine>;
}

const GPU_MODE_NAMES = ['headlessgl', 'webgpu'];

/** The GPU modes this run must check; an unknown name is a mistake in the caller's setup, not a skip. */
export const gpuModes: GpuJsMode[] = (process.env.CHARNN_GPU_MODES ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean)
  .map((m) => {
    if (!GPU_MODE_NAMES.includes(m)) throw new Error(`CHARNN_GPU_MODES: unknown mode "${m}" (expected ${GPU_MODE_NAMES.join(', ')})`);
    return m as GpuJsMode;
  });

const cpuFactories: EngineFactory[] = [
  { name: 'js', create: async () => createJsEngine() },
  { name: 'gpu.js cpu', create: () => createGpuJsEngine('cpu') },
  { name: 'gpu.js webasm', create: () => createGpuJsEngine('webasm') },
  { name: 'simd, 1 thread', create: () => createSimdEngine({ threads: 1 }) },
  { name: 'simd, 2 threads', create: () => createSimdEngine({ threads: 2 }) },
];

export const gpuFactories: EngineFactory[] = gpuModes.map((m) => ({ name: `gpu.js ${m}`, create: () => createGpuJsEngine(m) }));

export const engineFactories: EngineFactory[] = gpuFactories.length ? gpuFactories : cpuFactories;

/**
 * The engines the per-op conformance suites (test/conformance) hold to the js engine: every CPU
 * engine and its variants (simd split across threads however small the op, gpu.js's device-storage
 * path run in cpu mode), or the GPU modes when CHARNN_GPU_MODES names them.
 */
export const conformanceFactories: EngineFactory[] = gpuFactories.length ? gpuFactories : [
  { name: 'simd, 1 thread', create: () => createSimdEngine({ threads: 1 }) },
  { name: 'simd, 2 threads', create: () => createSimdEngine({ threads: 2 }) },
  { name: 'simd, 2 threads, every op split', create: () => createSimdEngine({ threads: 2, forceParallel: true }) },
  { name: 'gpu.js cpu', create: () => createGpuJsEngine('cpu') },
  { name: 'gpu.js webasm', create: () => createGpuJsEngine('webasm') },
  {
    name: 'gpu.js cpu, device storage',
    create: async () => checkedEngine(new GpuJsEngine(gpuJsBackendName('cpu'), new DeviceBackend(new gpujs.GPU({ mode: 'cpu' }), 'cpu'))),
  },
];
