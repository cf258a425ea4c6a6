// Streaming generation: the prime is fed one character at a time, then each new character is
// drawn from the model's distribution and fed back. State is O(1) in the length generated.
import { Weights, Workspace } from '../model/model.js';
import type { Vocab } from '../text/vocab.js';
import { Rng } from '../rng.js';
import { pick, type PickOptions } from './pick.js';

export interface SampleOptions extends PickOptions {
  prime: string;
  length: number;
  seed: number;
  /** Receives the generated text piece by piece, as it is produced. */
  onText?: (text: string) => void;
  /** Polled before each character: true ends generation at once (the reader has gone). */
  shouldStop?: () => boolean;
}

export interface SampleResult {
  text: string;
  /** Prime characters left out because the model's vocabulary lacks them. */
  skipped: string[];
  seconds: number;
}

export async function sample(w: Weights, vocab: Vocab, o: SampleOptions): Promise<SampleResult> {
  const start = performance.now();
  const rng = new Rng(o.seed);
  const ws = new Workspace(w, 1, 1, false);
  const input = new Float32Array(1);
  const skipped: string[] = [];
  const primeIds: number[] = [];
  for (const ch of o.prime) {
    const id = vocab.idOf(ch.codePointAt(0)!);
    if (id < 0) skipped.push(ch);
    else primeIds.push(id);
  }
  // With no usable prime, start after a newline (the most neutral context) if the model knows it.
  const seedIds = primeIds.length > 0 ? primeIds : [Math.max(0, vocab.idOf(10))];
  let text = primeIds.map((id) => String.fromCodePoint(vocab.codePointOf(id))).join('');
  if (text) o.onText?.(text);
  let logits: Float32Array = new Float32Array(0);
  const feed = async (id: number) => {
    input[0] = id;
    ws.setInputs(input);
    ws.forward();
    ws.carryState();
    logits = await w.e.read(ws.logits);
  };
  for (const id of seedIds) await feed(id);
  let yielded = performance.now();
  for (let i = 0; i < o.length; i++) {
    // Every op of a CPU engine resolves at once, so this loop would never let the event loop run:
    // a closed stdout (its error event) and signals would wait until the end. Yield now and then.
    if (performance.now() - yielded > 20) {
      await new Promise((r) => setImmediate(r));
      yielded = performance.now();
    }
    if (o.shouldStop?.()) break;
    const id = pick(logits, o, rng);
    const ch = String.fromCodePoint(vocab.codePointOf(id));
    text += ch;
    o.onText?.(ch);
    if (i + 1 < o.length) await feed(id);
  }
  return { text, skipped, seconds: (performance.now() - start) / 1000 };
}
