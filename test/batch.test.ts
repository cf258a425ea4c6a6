// Where training's characters come from: the stream batching's layout and its resume, checked
// against the text they were cut from.
import { describe, expect, it } from 'vitest';
import { batchSource } from '../src/train/batch.js';
import { Rng } from '../src/rng.js';

const N = 5000, B = 4, T = 16;
// Position-coded ids: every id says where in the text it came from.
const ids = Uint16Array.from({ length: N }, (_, i) => i);
const rng = new Rng(1);

/** Stream b's inputs and targets in the current chunk. */
function row(src: ReturnType<typeof batchSource>, b: number) {
  return {
    inputs: Array.from({ length: T }, (_, t) => src.inputs[t * B + b]),
    targets: Array.from({ length: T }, (_, t) => src.targets[t * B + b]),
  };
}

describe('stream batching', () => {
  const streamLen = Math.floor(N / B), chunks = Math.floor((streamLen - 1) / T);

  it('reads each stream chunk after chunk, every target the id after its input, restarting once a pass', () => {
    const src = batchSource('stream', ids, B, T);
    for (let step = 0; step < 3 * chunks; step++) {
      const restart = src.next(rng);
      expect(restart).toBe(step % chunks === 0);
      const chunk = step % chunks;
      for (let b = 0; b < B; b++) {
        const { inputs, targets } = row(src, b);
        const first = b * streamLen + chunk * T;
        expect(inputs).toEqual(Array.from({ length: T }, (_, t) => first + t));
        expect(targets).toEqual(inputs.map((i) => i + 1));
      }
    }
  });

  it('resumes from its cursor where it left off, in any pass', () => {
    const straight = batchSource('stream', ids, B, T);
    const steps = 2 * chunks + 5;
    for (let i = 0; i < steps; i++) straight.next(rng);
    const resumed = batchSource('stream', ids, B, T);
    resumed.cursor = straight.cursor;
    for (let i = 0; i < chunks + 3; i++) {
      expect(resumed.next(rng)).toBe(straight.next(rng));
      expect(Array.from(resumed.inputs)).toEqual(Array.from(straight.inputs));
      expect(Array.from(resumed.targets)).toEqual(Array.from(straight.targets));
    }
  });

  it('overlaps the streams of a text too short for them instead of reading past its end', () => {
    const short = ids.subarray(0, 40);
    const src = batchSource('stream', short, B, T);
    for (let step = 0; step < 10; step++) {
      src.next(rng);
      for (let k = 0; k < B * T; k++) {
        expect(src.inputs[k]).toBeLessThan(39);
        expect(src.targets[k]).toBe(src.inputs[k] + 1);
      }
    }
  });
});
