// Backend selection. `auto` takes a GPU through gpu.js (webgpu or headless-gl) when it works and
// trains faster than the cpu engine (WebAssembly SIMD) at the model's shapes (auto.ts), else cpu,
// which beats gpu.js's own CPU modes by two orders of magnitude.
import { UserError } from '../errors.js';
import type { Engine } from '../engine/engine-api.js';
import { createJsEngine } from '../engine/js/js-engine.js';
import { createGpuJsEngine } from '../engine/gpujs/index.js';
import { chooseAuto } from './auto-choice.js';
import type { ProbeShape } from './probe.js';
import { createSimdEngine } from '../engine/simd/simd-engine.js';
import { defaultThreads } from '../engine/threads.js';

import { BACKENDS, backendName, type BackendName } from '../engine/backends.js';

export { BACKENDS, type BackendName };

export interface EngineChoice {
  engine: Engine;
  /** Why this backend, in words, for `auto`. */
  reason: string;
}

/** The shape auto measures at when the caller names none: the README's LSTM 2×256 config. */
export const DEFAULT_PROBE_SHAPE: ProbeShape = {
  config: { cell: 'lstm', vocab: 65, embed: 64, hidden: 256, layers: 2 }, batch: 32, seq: 128,
};

export interface CreateEngineOptions {
  threads?: number;
  /** For auto: the model and batch it will run, so the speed comparison is at its own shapes. */
  shape?: ProbeShape;
  /** For auto: where its per-machine cache lives (see auto.ts). */
  cacheDir?: string;
  /** For auto: the batch a GPU would use where it differs from the shape's (AutoOptions.gpuBatch). */
  gpuBatch?: number;
}

export async function createEngine(given: BackendName | string, opts: CreateEngineOptions = {}): Promise<EngineChoice> {
  const name = backendName(given);
  // An explicit thread count always wins; otherwise one per core that is not busy (threads.ts).
  // Only simd uses threads: the other backends start without measuring.
  const simdThreads = async (): Promise<number> => opts.threads ?? await defaultThreads();
  switch (name) {
    case 'cpu':
      return { engine: await createSimdEngine({ threads: await simdThreads() }), reason: 'requested' };
    case 'js':
      return { engine: createJsEngine(), reason: 'requested' };
    case 'gpujs-cpu': return { engine: await createGpuJsEngine('cpu'), reason: 'requested' };
    case 'gpujs-webasm': return { engine: await createGpuJsEngine('webasm'), reason: 'requested' };
    case 'headlessgl': case 'webgpu':
      return { engine: await createGpuJsEngine(name), reason: 'requested' };
    case 'auto': {
      const threads = await simdThreads();
      const pick = await chooseAuto(opts.shape ?? DEFAULT_PROBE_SHAPE, { threads, cacheDir: opts.cacheDir, gpuBatch: opts.gpuBatch });
      const engine = pick.backend === 'cpu' ? await createSimdEngine({ threads }) : await createGpuJsEngine(pick.backend);
      return { engine, reason: pick.reason + (pick.cached ? ' (measured earlier on this machine)' : '') };
    }
    default:
      throw new UserError(`--backend ${given} is not known; use one of: ${BACKENDS.join(', ')}`);
  }
}
