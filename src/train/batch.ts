// Where each training step's characters come from. Two ways, chosen with --batching:
// - `random`: independent (batch × seq) windows at random offsets, each starting from a zero
//   state, as nanoGPT's get_batch does.
// - `stream`: the training text cut into `batch` contiguous streams read chunk after chunk, the
//   hidden state carried from one chunk to the next (truncated BPTT, as char-rnn and torch-rnn
//   do), so the model learns to use context longer than one chunk.
import type { Rng } from '../rng.js';

export type Ids = Uint8Array | Uint16Array | Uint32Array;
import type { Batching } from '../model/settings.js';

export type { Batching } from '../model/settings.js';

export interface BatchSource {
  readonly inputs: Float32Array;
  readonly targets: Float32Array;
  /** Whether the model should carry its state from the previous step into this one. */
  readonly carriesState: boolean;
  /** Fills inputs/targets time-major (element t·batch + b); returns true when the state must restart. */
  next(rng: Rng): boolean;
  /** Position in the data beyond the RNG state, for an exact resume. */
  cursor: number;
}

export function batchSource(kind: Batching, ids: Ids, batch: number, seq: number): BatchSource {
  if (ids.length < seq + 1) throw new Error(`training text (${ids.length} characters) is shorter than one window of ${seq + 1}`);
  return kind === 'random' ? new RandomWindows(ids, batch, seq) : new ContiguousStreams(ids, batch, seq);
}

class RandomWindows implements BatchSource {
  readonly inputs: Float32Array;
  readonly targets: Float32Array;
  readonly carriesState = false;
  cursor = 0;

  constructor(private readonly ids: Ids, readonly batch: number, readonly seq: number) {
    this.inputs = new Float32Array(batch * seq);
    this.targets = new Float32Array(batch * seq);
  }

  next(rng: Rng): boolean {
    const { ids, batch: B, seq: T } = this;
    const span = ids.length - T;
    for (let b = 0; b < B; b++) {
      const start = rng.int(span);
      for (let t = 0; t < T; t++) {
        this.inputs[t * B + b] = ids[start + t];
        this.targets[t * B + b] = ids[start + t + 1];
      }
    }
    return true;
  }
}

class ContiguousStreams implements BatchSource {
  readonly inputs: Float32Array;
  readonly targets: Float32Array;
  readonly carriesState = true;
  /** Chunks read so far in the current pass over the streams. */
  cursor = 0;
  private readonly streamLen: number;

  constructor(private readonly ids: Ids, readonly batch: number, readonly seq: number) {
    this.inputs = new Float32Array(batch * seq);
    this.targets = new Float32Array(batch * seq);
    // With too little text for `batch` streams of one chunk each, streams overlap.
    this.streamLen = Math.max(seq + 1, Math.floor(ids.length / batch));
  }

  next(): boolean {
    const { ids, batch: B, seq: T } = this;
    const chunks = Math.floor((this.streamLen - 1) / T);
    if (this.cursor >= chunks) this.cursor = 0;
    const restart = this.cursor === 0;
    const maxStart = ids.length - this.streamLen;
    for (let b = 0; b < B; b++) {
      const base = Math.min(b * this.streamLen, maxStart) + this.cursor * T;
      for (let t = 0; t < T; t++) {
        this.inputs[t * B + b] = ids[base + t];
        this.targets[t * B + b] = ids[base + t + 1];
      }
    }
    this.cursor++;
    return restart;
  }
}
