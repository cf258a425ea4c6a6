// Tokenizers: what one model symbol is. 'chars' is a Unicode code point from the training text's
// vocabulary; 'bytes' is one raw byte of the file (256 symbols), so any file, valid UTF-8 or
// not, evaluates with no unknown symbols and bits per byte compare with published figures.
//
// A byte model's vocabulary is stored as the code points 0..255: reading a file as latin1 maps
// every byte to the code point of the same value, so the byte vocabulary is an ordinary Vocab
// and the checkpoint's vocab/config checks hold unchanged.
import { Vocab } from './vocab.js';

export const TOKENIZERS = ['chars', 'bytes'] as const;
export type TokenizerKind = (typeof TOKENIZERS)[number];

export interface Decoder {
  /** Text completed by this symbol ('' while a byte model is inside a multi-byte character). */
  push(id: number): string;
  /** Whatever is left pending (an unfinished UTF-8 sequence becomes U+FFFD). */
  end(): string;
}

export interface Tokenizer {
  kind: TokenizerKind;
  size: number;
  /** The checkpoint's vocabulary (code points 0..255 for bytes). */
  vocab: Vocab;
  /** Unit name for reports: bits per char or bits per byte. */
  unit: 'char' | 'byte';
  /** Symbols the model lacks are skipped and returned (never for bytes). */
  encode(text: string): { ids: number[]; skipped: string[] };
  decoder(): Decoder;
}

export class CharTokenizer implements Tokenizer {
  readonly kind = 'chars' as const;
  readonly unit = 'char' as const;
  readonly size: number;

  constructor(readonly vocab: Vocab) {
    this.size = vocab.size;
  }

  encode(text: string): { ids: number[]; skipped: string[] } {
    const ids: number[] = [], skipped: string[] = [];
    for (const ch of text) {
      const id = this.vocab.idOf(ch.codePointAt(0)!);
      if (id < 0) skipped.push(ch);
      else ids.push(id);
    }
    return { ids, skipped };
  }

  decoder(): Decoder {
    const v = this.vocab;
    return { push: (id) => String.fromCodePoint(v.codePointOf(id)), end: () => '' };
  }
}

export const BYTE_VOCAB: Vocab = Vocab.fromCodePoints(Array.from({ length: 256 }, (_, i) => i));

export class ByteTokenizer implements Tokenizer {
  readonly kind = 'bytes' as const;
  readonly unit = 'byte' as const;
  readonly size = 256;
  readonly vocab = BYTE_VOCAB;
  private readonly utf8 = new TextEncoder();

  encode(text: string): { ids: number[]; skipped: string[] } {
    return { ids: Array.from(this.utf8.encode(text)), skipped: [] };
  }

  decoder(): Decoder {
    // Not fatal: a sampled byte sequence need not be valid UTF-8, and showing U+FFFD beats failing.
    const d = new TextDecoder('utf-8', { ignoreBOM: true });
    const one = new Uint8Array(1);
    return {
      push: (id) => {
        if (!(Number.isInteger(id) && id >= 0 && id < 256)) throw new RangeError(`id ${id} outside the byte vocabulary`);
        one[0] = id;
        return d.decode(one, { stream: true });
      },
      end: () => d.decode(),
    };
  }
}

/** The tokenizer of a model: `kind` absent means chars (checkpoints from before byte models). */
export function makeTokenizer(kind: TokenizerKind | undefined, vocab: Vocab): Tokenizer {
  if (kind === 'bytes') {
    if (vocab.size !== 256 || vocab.codePointOf(255) !== 255) throw new RangeError('a byte model needs the 256-symbol byte vocabulary');
    return new ByteTokenizer();
  }
  return new CharTokenizer(vocab);
}
