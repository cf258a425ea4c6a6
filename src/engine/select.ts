// Backend selection. `auto` takes a GPU through gpu.js (webgpu or headless-gl) when it works and
// trains faster than the WebAssembly SIMD engine at the model's shapes (auto.ts), else simd,
// which beats gpu.js's CPU modes by an order of magnitude.
import os from 'node:os';
import { UserError } from '../errors.js';
import type { Engine } from './engine.js';
import { createJsEngine } from './js/engine.js';
import { createGpuJsEngine } from './gpujs/index.js';
import { chooseAuto } from './auto.js';
import type { ProbeShape } from './probe.js';
import { createSimdEngine } from './simd/engine.js';

import { BACKENDS, type BackendName } from './backends.js';

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
}

export async function createEngine(name: BackendName, opts: CreateEngineOptions = {}): Promise<EngineChoice> {
  // An explicit thread count always wins. Otherwise every core, even on a busy machine: threads
  // claim blocks and join a command only while it is open (simd/pool.ts), so a thread that loses
  // its core holds up one block at most, and each thread adds a share of the CPU. Measured on the
  // 2-core machine (LSTM 2x256 B32 T128 training, 8 interleaved runs each, other engineers' work
  // running too): with one busy process competing, 2 threads median 2,354 chars/s against
  // 1,947 for 1 (before, with fixed shares, 2 threads ran at about 0.6x of 1); quiet, the
  // products run 1.7-2.0x faster on 2 threads (README). Under other kinds of load the answer
  // varied (with others' test suites and engines running, 1 thread led, 4,670 vs 3,158), so a
  // rule on the load average or on busy cores would be a guess; --threads 1 is the way out.
  const threads = opts.threads ?? os.availableParallelism();
  switch (name) {
    case 'simd':
      return { engine: await createSimdEngine({ threads }), reason: 'requested' };
    case 'js':
      return { engine: createJsEngine(), reason: 'requested' };
    case 'cpu': case 'webasm': case 'headlessgl': case 'webgpu':
      return { engine: await createGpuJsEngine(name), reason: 'requested' };
    case 'auto': {
      const pick = await chooseAuto(opts.shape ?? DEFAULT_PROBE_SHAPE, { threads, cacheDir: opts.cacheDir });
      const engine = pick.backend === 'simd' ? await createSimdEngine({ threads }) : await createGpuJsEngine(pick.backend);
      return { engine, reason: pick.reason + (pick.cached ? ' (measured earlier on this machine)' : '') };
    }
    default:
      throw new UserError(`--backend ${name as string} is not known; use one of: ${BACKENDS.join(', ')}`);
  }
}
