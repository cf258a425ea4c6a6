// Every backend the test suite runs model-level checks through.
import type { Engine } from '../src/engine/engine.js';
import { createJsEngine } from '../src/engine/js/engine.js';
import { createGpuJsEngine } from '../src/engine/gpujs/index.js';
import { createSimdEngine } from '../src/engine/simd/engine.js';

export interface EngineFactory {
  name: string;
  create: () => Promise<Engine>;
}

export const engineFactories: EngineFactory[] = [
  { name: 'js', create: async () => createJsEngine() },
  { name: 'gpu.js cpu', create: () => createGpuJsEngine('cpu') },
  { name: 'gpu.js webasm', create: () => createGpuJsEngine('webasm') },
  { name: 'simd, 1 thread', create: () => createSimdEngine({ threads: 1 }) },
  { name: 'simd, 2 threads', create: () => createSimdEngine({ threads: 2 }) },
];
