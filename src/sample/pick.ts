// Turning one row of logits into the next character: temperature, top-k, nucleus (top-p), greedy.
import type { Rng } from '../rng.js';

export interface PickOptions {
  temperature: number;
  topK?: number;
  topP?: number;
  greedy?: boolean;
}

export function pick(logits: Float32Array, o: PickOptions, rng: Rng): number {
  const V = logits.length;
  if (o.greedy) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  let mx = -Infinity;
  for (let i = 0; i < V; i++) mx = Math.max(mx, logits[i]);
  const p = new Float64Array(V);
  let sum = 0;
  for (let i = 0; i < V; i++) sum += p[i] = Math.exp((logits[i] - mx) / o.temperature);
  // Candidates sorted by probability, so top-k and top-p both cut a prefix.
  let order = Array.from({ length: V }, (_, i) => i).sort((a, b) => p[b] - p[a] || a - b);
  if (o.topK && o.topK < V) order = order.slice(0, o.topK);
  if (o.topP !== undefined && o.topP < 1) {
    let acc = 0, keep = 0;
    while (keep < order.length && acc < o.topP * sum) acc += p[order[keep++]];
    order = order.slice(0, Math.max(1, keep));
  }
  let total = 0;
  for (const i of order) total += p[i];
  let r = rng.uniform() * total;
  for (const i of order) {
    r -= p[i];
    if (r < 0) return i;
  }
  return order[order.length - 1];
}
