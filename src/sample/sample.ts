// Streaming generation over the fused inference step: the prime is fed once to every stream,
// then each stream draws its next character from its own logits and feeds it back. N samples
// run as one batch of N streams; stream i draws from its own generator seeded from (seed, i), and
// the engine computes each stream exactly as it would alone, so stream 0 is the single sample.
// State and memory are O(1) in the length generated (the text itself aside, see `keep`).
import type { Weights } from '../model/model.js';
import { InferSession } from '../model/infer-session.js';
import { Vocab } from '../text/vocab.js';
import { Rng } from '../rng.js';
import { Picker, type PickOptions } from './pick.js';
import { type SampleDecoder, type SampleTokenizer, vocabTokenizer } from './sample-tokenizer.js';

export interface SampleOptions extends PickOptions {
  /** Text the samples continue, already decoded. */
  prime: string;
  /** Characters (ids) to generate per stream. */
  length: number;
  seed: number;
  /** Independent samples, generated side by side (default 1). */
  count?: number;
  /** A stream ends once its generated text ends with this string (it is included). */
  stop?: string;
  /** Receives each stream's text as it is produced: the prime first, then piece by piece. */
  onText?: (stream: number, piece: string) => void;
  /** Polled before every character; true ends sampling at once (e.g. stdout has closed). */
  shouldStop?: () => boolean;
  /** Keep the texts for the result (default true); false keeps memory flat for endless streams. */
  keep?: boolean;
}

export type StreamEnd = 'length' | 'stop' | 'interrupted';

export interface SampleResult {
  /** Per stream: prime plus generated text ('' when keep is false). */
  texts: string[];
  /** texts[0]. */
  text: string;
  /** Prime characters left out because the model's vocabulary lacks them. */
  skipped: string[];
  /** Ids generated, all streams together. */
  generated: number;
  ended: StreamEnd[];
  seconds: number;
}

/** Stream i's generator: stream 0 uses the seed itself, so one sample and the first of many agree. */
export function streamRng(seed: number, stream: number): Rng {
  return new Rng(stream === 0 ? seed : (seed ^ Math.imul(stream, 0x9e3779b1)) + stream);
}

/** Text built from many small pieces without a rope of a million cells: pieces are joined in blocks. */
class TextSink {
  private readonly blocks: string[] = [];
  private parts: string[] = [];

  add(piece: string): void {
    this.parts.push(piece);
    if (this.parts.length >= 4096) {
      this.blocks.push(this.parts.join(''));
      this.parts = [];
    }
  }

  text(): string {
    return this.blocks.join('') + this.parts.join('');
  }
}

export async function sample(w: Weights, tokens: Vocab | SampleTokenizer, o: SampleOptions): Promise<SampleResult> {
  const start = performance.now();
  const tok = tokens instanceof Vocab ? vocabTokenizer(tokens) : tokens;
  const N = o.count ?? 1, V = w.config.vocab, keep = o.keep ?? true, stop = o.stop ?? '';
  if (!Number.isInteger(N) || N < 1) throw new RangeError(`sample: count must be an integer ≥ 1, got ${N}`);
  if (!Number.isInteger(o.length) || o.length < 0) throw new RangeError(`sample: length must be an integer ≥ 0, got ${o.length}`);
  const { ids: primeIds, skipped } = tok.encode(o.prime);
  // With no usable prime, start after a newline (the most neutral context) if the model knows it.
  const seedIds = primeIds.length > 0 ? primeIds : [tok.encode('\n').ids[0] ?? 0];

  const session = new InferSession(w, N);
  // The plan holds engine memory: released however sampling ends.
  try {
    const rngs = Array.from({ length: N }, (_, s) => streamRng(o.seed, s));
    const decoders: SampleDecoder[] = Array.from({ length: N }, () => tok.decoder());
    const sinks = Array.from({ length: N }, () => new TextSink());
    const tails = new Array<string>(N).fill('');
    const ended: (StreamEnd | null)[] = new Array(N).fill(null);
    const emit = (s: number, piece: string): void => {
      if (!piece) return;
      if (keep) sinks[s].add(piece);
      o.onText?.(s, piece);
    };

    // The prime as the model sees it (skipped characters left out), once per stream.
    const primeDecoder = tok.decoder();
    let primeText = '';
    for (const id of primeIds) primeText += primeDecoder.push(id);
    primeText += primeDecoder.end();
    for (let s = 0; s < N; s++) emit(s, primeText);

    const ids = new Array<number>(N);
    const feedAll = (id: number): void => { ids.fill(id); session.feed(ids); };
    for (let i = 0; i < seedIds.length - 1; i++) feedAll(seedIds[i]);
    let logits = await session.step(ids.fill(seedIds[seedIds.length - 1]));
    const picker = new Picker(V, o);
    let generated = 0, live = N;
    let yielded = performance.now();
    for (let i = 0; i < o.length && live > 0; i++) {
      // A CPU engine's step resolves at once, so this loop would never let the event loop run: a
      // closed stdout (its error event) and signals would wait for the end. Yield now and then.
      if (performance.now() - yielded > 20) {
        await new Promise((r) => setImmediate(r));
        yielded = performance.now();
      }
      if (o.shouldStop?.()) {
        for (let s = 0; s < N; s++) ended[s] ??= 'interrupted';
        break;
      }
      for (let s = 0; s < N; s++) {
        if (ended[s]) continue; // a finished stream keeps stepping on its last id; its logits go unused
        const id = picker.pick(logits, s * V, rngs[s]);
        ids[s] = id;
        generated++;
        const piece = decoders[s].push(id);
        emit(s, piece);
        if (stop && piece) {
          tails[s] = (tails[s] + piece).slice(-stop.length);
          if (tails[s] === stop) { ended[s] = 'stop'; live--; }
        }
      }
      if (i + 1 < o.length && live > 0) logits = await session.step(ids);
    }
    for (let s = 0; s < N; s++) {
      if (ended[s] !== 'interrupted') emit(s, decoders[s].end());
      ended[s] ??= 'length';
    }
    const texts = sinks.map((t) => (keep ? t.text() : ''));
    return { texts, text: texts[0], skipped, generated, ended: ended as StreamEnd[], seconds: (performance.now() - start) / 1000 };
  } finally {
    session.dispose();
  }
}
