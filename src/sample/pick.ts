// Turning one row of logits into the next character: temperature, top-k, nucleus (top-p), greedy.
// A Picker owns its buffers, so picking allocates nothing; only top-k/top-p sort the vocabulary.
import type { Rng } from '../rng.js';

export interface PickOptions {
  temperature: number;
  topK?: number;
  topP?: number;
  greedy?: boolean;
}

export class Picker {
  private readonly p: Float64Array;
  private readonly order: Uint32Array;
  private readonly cut: boolean;

  constructor(readonly vocab: number, private readonly o: PickOptions) {
    this.p = new Float64Array(vocab);
    this.order = new Uint32Array(vocab);
    this.cut = (o.topK !== undefined && o.topK < vocab) || (o.topP !== undefined && o.topP < 1);
  }

  /** The id drawn from logits[off, off + vocab); draws exactly one number from rng unless greedy. */
  pick(logits: Float32Array, off: number, rng: Rng): number {
    const V = this.vocab, o = this.o, p = this.p;
    if (o.greedy) {
      let best = 0;
      for (let i = 1; i < V; i++) if (logits[off + i] > logits[off + best]) best = i;
      return best;
    }
    let mx = -Infinity;
    for (let i = 0; i < V; i++) if (logits[off + i] > mx) mx = logits[off + i];
    let sum = 0;
    for (let i = 0; i < V; i++) sum += p[i] = Math.exp((logits[off + i] - mx) / o.temperature);
    if (!this.cut) {
      let r = rng.uniform() * sum;
      for (let i = 0; i < V; i++) {
        r -= p[i];
        if (r < 0) return i;
      }
      // Rounding can leave r a hair above zero: the last id with any mass.
      for (let i = V - 1; i > 0; i--) if (p[i] > 0) return i;
      return 0;
    }
    // Candidates by probability (ties by id), so top-k and top-p both keep a prefix.
    const order = this.order;
    for (let i = 0; i < V; i++) order[i] = i;
    order.sort((a, b) => p[b] - p[a] || a - b);
    let keep = o.topK !== undefined ? Math.min(o.topK, V) : V;
    if (o.topP !== undefined && o.topP < 1) {
      let acc = 0, n = 0;
      while (n < keep && acc < o.topP * sum) acc += p[order[n++]];
      keep = Math.max(1, n);
    }
    let total = 0;
    for (let i = 0; i < keep; i++) total += p[order[i]];
    let r = rng.uniform() * total;
    for (let i = 0; i < keep; i++) {
      r -= p[order[i]];
      if (r < 0) return order[i];
    }
    return order[keep - 1];
  }
}

/** One pick from a whole row (allocates a Picker: for loops, keep one instead). */
export function pick(logits: Float32Array, o: PickOptions, rng: Rng): number {
  return new Picker(logits.length, o).pick(logits, 0, rng);
}
