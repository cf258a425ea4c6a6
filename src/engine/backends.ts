// Backend names, kept apart from select.ts so that settings and flag tables can list them without
// loading every engine.
export const BACKENDS = ['auto', 'simd', 'cpu', 'webasm', 'headlessgl', 'webgpu', 'js'] as const;
export type BackendName = (typeof BACKENDS)[number];
