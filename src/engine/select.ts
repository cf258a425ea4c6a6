// Backend selection. `auto` prefers a real GPU through gpu.js (webgpu, then headless-gl), and
// otherwise the WebAssembly SIMD engine, which beats gpu.js's CPU modes by an order of magnitude.
import os from 'node:os';
import { UserError } from '../errors.js';
import type { Engine } from './engine.js';
import { createJsEngine } from './js/engine.js';
import { createGpuJsEngine, probeGpuJsModes } from './gpujs/index.js';
import { createSimdEngine } from './simd/engine.js';

import { BACKENDS, type BackendName } from './backends.js';

export { BACKENDS, type BackendName };

export interface EngineChoice {
  engine: Engine;
  /** Why this backend, in words, for `auto`. */
  reason: string;
}

export async function createEngine(name: BackendName, opts: { threads?: number } = {}): Promise<EngineChoice> {
  const threads = opts.threads ?? os.availableParallelism();
  switch (name) {
    case 'simd':
      return { engine: await createSimdEngine({ threads }), reason: 'requested' };
    case 'js':
      return { engine: createJsEngine(), reason: 'requested' };
    case 'cpu': case 'webasm': case 'headlessgl': case 'webgpu':
      return { engine: await createGpuJsEngine(name), reason: 'requested' };
    case 'auto': {
      const modes = await probeGpuJsModes();
      for (const gpu of ['webgpu', 'headlessgl'] as const) {
        const m = modes.find((x) => x.mode === gpu);
        if (m?.ok) return { engine: await createGpuJsEngine(gpu), reason: `gpu.js ${gpu} works on this machine` };
      }
      return {
        engine: await createSimdEngine({ threads }),
        reason: `no GPU backend works here (webgpu, headlessgl), so the WebAssembly SIMD engine with ${threads} thread${threads === 1 ? '' : 's'}`,
      };
    }
    default:
      throw new UserError(`--backend ${name as string} is not known; use one of: ${BACKENDS.join(', ')}`);
  }
}
