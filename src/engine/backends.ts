// Backend names, kept apart from select.ts so that settings and flag tables can list them without
// loading every engine. Named for what a user chooses: `cpu` is the fast engine for a machine
// without a GPU (WebAssembly SIMD kernels on worker threads); gpu.js's own CPU modes, a hundred
// times slower, say that they are gpu.js fallbacks.
export const BACKENDS = ['auto', 'cpu', 'webgpu', 'headlessgl', 'gpujs-cpu', 'gpujs-webasm', 'js'] as const;
export type BackendName = (typeof BACKENDS)[number];

/**
 * Names of earlier versions, still accepted (scripts, and checkpoints record their backend):
 * `simd` was the fast CPU engine's name, `webasm` gpu.js's WebAssembly mode. An old `cpu` (gpu.js's
 * CPU mode) now gets the fast engine, which computes the same model.
 */
export const BACKEND_ALIASES: Readonly<Record<string, BackendName>> = { simd: 'cpu', webasm: 'gpujs-webasm' };

/** The current name for `name`, an old name mapped; null when it is no backend. */
export function backendName(name: string): BackendName | null {
  if ((BACKENDS as readonly string[]).includes(name)) return name as BackendName;
  return BACKEND_ALIASES[name] ?? null;
}
