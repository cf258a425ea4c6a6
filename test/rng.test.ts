// The generator's fast mask fill must draw what uniform() draws: dropout masks, and every resumed
// run's batches after them, depend on it bit for bit.
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/rng.js';

describe('Rng.fillMask', () => {
  for (const keep of [0.9, 0.5, 0.05]) {
    it(`matches uniform() < ${keep} element for element and ends in the same state`, () => {
      const a = new Rng(42), b = new Rng(42);
      const scale = 1 / keep;
      const slow = Float32Array.from({ length: 10_000 }, () => (a.uniform() < keep ? scale : 0));
      const fast = new Float32Array(10_000);
      b.fillMask(fast, keep, scale);
      expect(fast).toEqual(slow);
      expect(b.state()).toBe(a.state());
      expect(b.nextU32()).toBe(a.nextU32());
      // The kept fraction is the one asked for (10,000 draws: within 4 standard deviations).
      const kept = fast.filter((v) => v !== 0).length / fast.length;
      expect(Math.abs(kept - keep)).toBeLessThan(4 * Math.sqrt((keep * (1 - keep)) / fast.length));
    });
  }
});
