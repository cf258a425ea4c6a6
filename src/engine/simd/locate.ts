// Finds the compiled kernels from the package root, so the same code works from src/ (vitest)
// and from dist/ (the built CLI).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../package-root.js';
import { type KernelVariant, chooseVariant } from './variant.js';
import { type WasmModule, wasm } from './wasm.js';

export function kernelsPath(variant: KernelVariant): string {
  return path.join(packageRoot(), 'dist', 'simd', variant === 'relaxed' ? 'kernels-relaxed.wasm' : 'kernels.wasm');
}

export interface Kernels {
  module: WasmModule;
  variant: KernelVariant;
}

const compiled = new Map<KernelVariant, Promise<WasmModule>>();

function compile(variant: KernelVariant): Promise<WasmModule> {
  let p = compiled.get(variant);
  if (!p) {
    const file = kernelsPath(variant);
    if (!existsSync(file)) {
      return Promise.reject(new Error(`WebAssembly kernels not found at ${file}; run \`npm run build\` first`));
    }
    p = wasm.compile(readFileSync(file));
    p.catch(() => compiled.delete(variant));
    compiled.set(variant, p);
  }
  return p;
}

/** The kernels module of the variant this process uses (see variant.ts), compiled once per process. */
export async function loadKernels(variant: KernelVariant = chooseVariant()): Promise<Kernels> {
  return { module: await compile(variant), variant };
}
