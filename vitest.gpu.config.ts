// scripts/test-gpu.sh: the GPU path in the mode(s) CHARNN_GPU_MODES names. The conformance suites,
// the gpu.js op suite and the gradient checks run through the GPU modes instead of the CPU engines
// there (test/engines.ts).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/gpu/**/*.test.ts', 'test/conformance/**/*.test.ts', 'test/engine-gpujs.test.ts', 'test/gradcheck.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});
