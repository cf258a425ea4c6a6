// What sampling needs from a tokenizer: ids for the prime, and a streaming decoder that turns ids
// back into text piece by piece (a byte tokenizer may need several ids before a character is
// whole, hence push() may return '' and end() flushes what is left).
import type { Vocab } from '../text/vocab.js';

export interface SampleDecoder {
  push(id: number): string;
  end(): string;
}

export interface SampleTokenizer {
  /** The prime's ids; characters the model cannot represent are left out and listed in skipped. */
  encode(text: string): { ids: number[]; skipped: string[] };
  decoder(): SampleDecoder;
}

/** Today's code-point vocabulary as a SampleTokenizer: one id per character. */
export function vocabTokenizer(vocab: Vocab): SampleTokenizer {
  // One string per id, made once: decoding allocates nothing per character.
  const chars = Array.from({ length: vocab.size }, (_, id) => String.fromCodePoint(vocab.codePointOf(id)));
  return {
    encode(text) {
      const ids: number[] = [], skipped: string[] = [];
      for (const ch of text) {
        const id = vocab.idOf(ch.codePointAt(0)!);
        if (id < 0) skipped.push(ch);
        else ids.push(id);
      }
      return { ids, skipped };
    },
    decoder: () => ({ push: (id) => chars[id], end: () => '' }),
  };
}
