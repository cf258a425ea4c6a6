// Random (batch × seq) windows from the training ids, as nanoGPT's get_batch does: every step
// sees fresh, independent contexts, and the initial state of each window is zero.
import type { Rng } from '../rng.js';

export type Ids = Uint8Array | Uint16Array | Uint32Array;

export class WindowSampler {
  readonly inputs: Float32Array;
  readonly targets: Float32Array;

  constructor(private readonly ids: Ids, readonly batch: number, readonly seq: number) {
    if (ids.length < seq + 1) throw new Error(`training text (${ids.length} characters) is shorter than one window of ${seq + 1}`);
    this.inputs = new Float32Array(batch * seq);
    this.targets = new Float32Array(batch * seq);
  }

  /** Fills inputs/targets time-major (element t·batch + b). */
  next(rng: Rng): void {
    const { ids, batch: B, seq: T } = this;
    const span = ids.length - T;
    for (let b = 0; b < B; b++) {
      const start = rng.int(span);
      for (let t = 0; t < T; t++) {
        this.inputs[t * B + b] = ids[start + t];
        this.targets[t * B + b] = ids[start + t + 1];
      }
    }
  }
}
