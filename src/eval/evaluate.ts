// Perplexity evaluation. The text is read as one stream (or `streams` contiguous streams run side
// by side), the hidden state is carried from chunk to chunk, and every character but the first
// of each stream is scored exactly once. A short final chunk is padded: the model is causal, so
// padding after the last real input cannot change the scores before it, and those are all we sum.
import type { Ids } from '../train/batch.js';
import { Weights, Workspace } from '../model/model.js';

export interface EvalResult {
  /** Characters scored. */
  chars: number;
  /** Total loss in nats. */
  nats: number;
  seconds: number;
}

export interface EvalOptions {
  /** Characters per chunk (the unrolled length). */
  seq?: number;
  /** Contiguous streams evaluated as one batch; 1 carries the state across the whole text. */
  streams?: number;
  onProgress?: (charsDone: number) => void;
}

/** Evaluates an in-memory text. */
export async function evaluateIds(w: Weights, ids: Ids, o: EvalOptions = {}): Promise<EvalResult> {
  const S = Math.max(1, Math.min(o.streams ?? 1, Math.floor(ids.length / 2)));
  const L = Math.floor(ids.length / S);
  const segments = Array.from({ length: S }, (_, s) => ids.subarray(s * L, s === S - 1 ? ids.length : (s + 1) * L));
  if (S === 1) return evaluateChunks(w, [ids], o);
  // Equal-length streams keep the batch rectangular; the last stream's extra tail (< S chars) is
  // scored as a stream of its own would be, by a second single-stream pass over it.
  const main = await evaluateParallel(w, segments.map((s) => s.subarray(0, L)), o);
  const tail = segments[S - 1].subarray(L - 1);
  if (tail.length < 2) return main;
  const extra = await evaluateChunks(w, [tail], { ...o, onProgress: undefined });
  return { chars: main.chars + extra.chars, nats: main.nats + extra.nats, seconds: main.seconds + extra.seconds };
}

/** Evaluates a text arriving in chunks (a file streamed from disk) as one stream. */
export async function evaluateChunks(w: Weights, chunks: AsyncIterable<Ids> | Iterable<Ids>, o: EvalOptions = {}): Promise<EvalResult> {
  const T = o.seq ?? 256;
  const ws = new Workspace(w, 1, T, false);
  const start = performance.now();
  const pending = new Float32Array(T + 1);
  let have = 0, chars = 0, nats = 0;
  const run = async (n: number) => {
    ws.setInputs(pending.subarray(0, T), pending.subarray(1, T + 1));
    ws.forward(); ws.loss();
    const losses = await w.e.read(ws.losses, 0, n);
    for (let i = 0; i < n; i++) nats += losses[i];
    chars += n;
    ws.carryState();
    pending[0] = pending[T];
    have = 1;
    o.onProgress?.(chars);
  };
  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      pending[have++] = chunk[i];
      if (have === T + 1) await run(T);
    }
  }
  if (have > 1) {
    pending.fill(pending[have - 1], have);
    await run(have - 1);
  }
  return { chars, nats, seconds: (performance.now() - start) / 1000 };
}

async function evaluateParallel(w: Weights, segments: Ids[], o: EvalOptions): Promise<EvalResult> {
  const S = segments.length, L = segments[0].length, T = o.seq ?? 256;
  const ws = new Workspace(w, S, T, false);
  const start = performance.now();
  const inputs = new Float32Array(S * T), targets = new Float32Array(S * T);
  let chars = 0, nats = 0;
  for (let pos = 0; pos < L - 1; pos += T) {
    const n = Math.min(T, L - 1 - pos);
    for (let t = 0; t < T; t++) {
      const p = Math.min(pos + t, L - 2);
      for (let s = 0; s < S; s++) {
        inputs[t * S + s] = segments[s][p];
        targets[t * S + s] = segments[s][p + 1];
      }
    }
    ws.setInputs(inputs, targets);
    ws.forward(); ws.loss();
    const losses = await w.e.read(ws.losses, 0, n * S);
    for (let i = 0; i < n * S; i++) nats += losses[i];
    chars += n * S;
    ws.carryState();
    o.onProgress?.(chars);
  }
  return { chars, nats, seconds: (performance.now() - start) / 1000 };
}
