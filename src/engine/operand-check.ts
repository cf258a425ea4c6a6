// One op call's checks, in the op layer's one message style (op-layer.ts): counts, then operand
// ranges, then the overlap rule once every operand is known, then ids.
import type { Tensor } from './engine-api.js';

interface Operand { name: string; t: Tensor; off: number; len: number; out: boolean; inPlace: readonly string[] }

const isCount = (v: number): boolean => Number.isInteger(v) && v >= 0;
const span = (o: Operand): string => `[${o.off}, ${o.off + o.len})`;

/** One op's checks: counts, operands, then the overlap rule once every operand is known. */
export class Check {
  private readonly operands: Operand[] = [];

  constructor(private readonly op: string, private readonly owned: WeakSet<Tensor>, private readonly freed?: WeakSet<Tensor>) {}

  count(name: string, v: number): number {
    if (!isCount(v)) throw new RangeError(`${this.op}: ${name} must be a non-negative integer, got ${v}`);
    return v;
  }

  tensor(name: string, t: Tensor): Tensor {
    if (!this.owned.has(t)) {
      throw new TypeError(`${this.op}: ${name} ${this.freed?.has(t) ? 'was freed' : 'is not a tensor of this engine'}`);
    }
    return t;
  }

  /** An input range t[off, off+len); returns the offset filled in. */
  in(name: string, t: Tensor, off: number | undefined, len: number): number {
    return this.add(name, t, off, len, false, []);
  }

  /** An output range; it may coincide exactly with the inputs named in `inPlace`, and overlap nothing else. */
  out(name: string, t: Tensor, off: number | undefined, len: number, inPlace: readonly string[] = []): number {
    return this.add(name, t, off, len, true, inPlace);
  }

  ids(name: string, view: Float32Array | undefined, limit: number): void {
    if (!view) return;
    for (let i = 0; i < view.length; i++) {
      const v = view[i];
      if (!(v >= 0 && v < limit && Number.isInteger(v))) throw new RangeError(`${this.op}: ${name}[${i}] = ${v} is not an id in [0, ${limit})`);
    }
  }

  /** Outputs overlap no other operand, except an allowed in-place input at the very same range. */
  done(): void {
    const ops = this.operands;
    for (const o of ops) {
      if (!o.out || o.len === 0) continue;
      for (const p of ops) {
        if (p === o || p.t !== o.t || p.len === 0 || p.off >= o.off + o.len || o.off >= p.off + p.len) continue;
        if (!p.out && o.inPlace.includes(p.name) && p.off === o.off && p.len === o.len) continue;
        throw new RangeError(`${this.op}: ${o.name} range ${span(o)} overlaps ${p.name} range ${span(p)} of the same tensor`);
      }
    }
  }

  private add(name: string, t: Tensor, off: number | undefined, len: number, out: boolean, inPlace: readonly string[]): number {
    this.tensor(name, t);
    const o = off ?? 0;
    if (!isCount(o)) throw new RangeError(`${this.op}: ${name} offset must be a non-negative integer, got ${o}`);
    if (o + len > t.size) throw new RangeError(`${this.op}: ${name} range [${o}, ${o + len}) outside a tensor of ${t.size} floats`);
    this.operands.push({ name, t, off: o, len, out, inPlace });
    return o;
  }
}
