// Finds the compiled kernels from the package root, so the same code works from src/ (vitest)
// and from dist/ (the built CLI).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../text/package-root.js';
import { type WasmModule, wasm } from './wasm.js';

export function kernelsPath(): string {
  return path.join(packageRoot(), 'dist', 'simd', 'kernels.wasm');
}

let compiled: Promise<WasmModule> | null = null;

/** The kernels module, compiled once per process. */
export function kernelsModule(): Promise<WasmModule> {
  if (!compiled) {
    const file = kernelsPath();
    if (!existsSync(file)) {
      return Promise.reject(new Error(`WebAssembly kernels not found at ${file}; run \`npm run build\` first`));
    }
    const p = wasm.compile(readFileSync(file));
    p.catch(() => { compiled = null; });
    compiled = p;
  }
  return compiled;
}
