import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The GPU-path suites need a GPU mode to check; scripts/test-gpu.sh runs them (vitest.gpu.config.ts).
    exclude: ['test/gpu/**', 'node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: heavy suites in parallel only fight each other.
    fileParallelism: false,
  },
});
