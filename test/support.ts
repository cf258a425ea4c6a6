// Helpers the engine suites share: seeded test data and the rule that library code stays silent.
import { afterEach, beforeEach, expect, vi } from 'vitest';

/** mulberry32: small, seedable, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n uniform values in (−scale, scale). */
export function randoms(rng: () => number, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rng() * 2 - 1) * scale);
}

/** Fails any test during which something wrote to the console. */
export function failOnConsoleOutput(): void {
  const spies: ReturnType<typeof vi.spyOn>[] = [];
  beforeEach(() => {
    for (const m of ['log', 'warn', 'error', 'info', 'debug'] as const) {
      spies.push(vi.spyOn(console, m).mockImplementation(() => undefined));
    }
  });
  afterEach(() => {
    // Library code must stay silent; gpu.js also warns here when a kernel degrades to another mode.
    for (const spy of spies.splice(0)) {
      expect(spy.mock.calls).toEqual([]);
      spy.mockRestore();
    }
  });
}

/**
 * The one closeness rule of the engine suites: |actual − expected| ≤ tolerance·(1 + |expected|)
 * elementwise (absolute near zero, relative for large values), NaN only where NaN is expected.
 * Fails naming the first offending index and the values.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, label: string): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e) ? Number.isNaN(a) : Math.abs(a - e) <= tolerance * (1 + Math.abs(e))) continue;
    expect.fail(`${label}[${i}] = ${a}, expected ${e} (tolerance ${tolerance})`);
  }
}
