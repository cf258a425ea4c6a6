// The character vocabulary: Unicode code points (not UTF-16 units, so an emoji is one symbol),
// sorted ascending so that the same text always yields the same ids.
import { UserError } from '../errors.js';

/** Token ids, in the smallest unsigned type that holds every id of the vocabulary. */
export type IdArray = Uint8Array | Uint16Array | Uint32Array;

const MAX_CODE_POINT = 0x10ffff;
const BMP = 0x10000;

/** Thrown by Vocab.encode; callers rephrase it to name their flag (e.g. --prime). */
export class UnknownCharError extends UserError {
  constructor(readonly codePoint: number) {
    super(`character ${describeCodePoint(codePoint)} is not in the model's vocabulary`);
    this.name = 'UnknownCharError';
  }
}

export function describeCodePoint(cp: number): string {
  const hex = 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
  // Control and whitespace characters print badly inside quotes, so show only their number.
  return cp <= 0x20 || (cp >= 0x7f && cp <= 0xa0) ? hex : `'${String.fromCodePoint(cp)}' (${hex})`;
}

export class Vocab {
  readonly size: number;
  private readonly cps: Uint32Array;
  private readonly chars: string[];
  // A dense table makes the per-character lookup of a multi-gigabyte corpus cheap; the rare
  // astral characters go through a Map.
  private readonly bmp = new Int32Array(BMP).fill(-1);
  private readonly astral = new Map<number, number>();

  private constructor(sortedUnique: Uint32Array) {
    this.cps = sortedUnique;
    this.size = sortedUnique.length;
    this.chars = Array.from(sortedUnique, (cp) => String.fromCodePoint(cp));
    sortedUnique.forEach((cp, id) => (cp < BMP ? (this.bmp[cp] = id) : this.astral.set(cp, id)));
  }

  static fromCodePoints(cps: Iterable<number>): Vocab {
    const set = new Set<number>();
    for (const cp of cps) {
      if (!Number.isInteger(cp) || cp < 0 || cp > MAX_CODE_POINT) throw new RangeError(`not a code point: ${cp}`);
      set.add(cp);
    }
    return new Vocab(Uint32Array.from(set).sort());
  }

  static fromText(text: string): Vocab {
    const set = new Set<number>();
    for (const ch of text) set.add(ch.codePointAt(0)!);
    return Vocab.fromCodePoints(set);
  }

  /** `where` names the source (e.g. "model.ckpt") in the error for a damaged vocabulary. */
  static fromJSON(value: unknown, where = 'the vocabulary'): Vocab {
    const bad = (why: string) => new UserError(`${where} has an invalid vocabulary (${why})`);
    if (!Array.isArray(value) || value.length === 0) throw bad('expected a non-empty array of code points');
    let prev = -1;
    for (const cp of value) {
      if (!Number.isInteger(cp) || cp < 0 || cp > MAX_CODE_POINT) throw bad(`${JSON.stringify(cp)} is not a code point`);
      if (cp <= prev) throw bad('code points are not strictly ascending');
      prev = cp;
    }
    return new Vocab(Uint32Array.from(value as number[]));
  }

  toJSON(): number[] {
    return Array.from(this.cps);
  }

  idOf(cp: number): number {
    if (cp < BMP) return cp >= 0 ? this.bmp[cp] : -1;
    return this.astral.get(cp) ?? -1;
  }

  codePointOf(id: number): number {
    if (!(id >= 0 && id < this.size)) throw new RangeError(`id ${id} outside vocabulary of ${this.size}`);
    return this.cps[id];
  }

  /** An id array of the smallest type for this vocabulary. */
  allocIds(length: number): IdArray {
    if (this.size <= 0x100) return new Uint8Array(length);
    if (this.size <= 0x10000) return new Uint16Array(length);
    return new Uint32Array(length);
  }

  /** Throws UnknownCharError for a character outside the vocabulary. */
  encode(text: string): IdArray {
    const out: number[] = [];
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      const id = this.idOf(cp);
      if (id < 0) throw new UnknownCharError(cp);
      out.push(id);
    }
    const ids = this.allocIds(out.length);
    ids.set(out);
    return ids;
  }

  decode(ids: ArrayLike<number>): string {
    const parts = new Array<string>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const s = this.chars[ids[i]];
      if (s === undefined) throw new RangeError(`id ${ids[i]} outside vocabulary of ${this.size}`);
      parts[i] = s;
    }
    return parts.join('');
  }
}
