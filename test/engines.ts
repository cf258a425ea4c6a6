// Every backend the test suite runs model-level checks through.
import type { Engine } from '../src/engine/engine.js';
import { createJsEngine } from '../src/engine/js/engine.js';
import { createGpuJsEngine } from '../src/engine/gpujs/index.js';

export interface EngineFactory {
  name: string;
  create: () => Promise<Engine>;
}

export const engineFactories: EngineFactory[] = [
  { name: 'js', create: async () => createJsEngine() },
  { name: 'gpu.js cpu', create: () => createGpuJsEngine('cpu') },
  { name: 'gpu.js webasm', create: () => createGpuJsEngine('webasm') },
];
