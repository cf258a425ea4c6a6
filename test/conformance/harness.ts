// The conformance harness: one op case runs on the js engine (the oracle: plain loops, float64
// arithmetic) and on every other engine, and each output tensor must match within the case's
// tolerance. Every operand sits in its own tensor at an odd offset between random padding, and the
// whole tensor is compared, so a write outside an output range fails too.
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Engine, Tensor } from '../../src/engine/engine-api.js';
import { createJsEngine } from '../../src/engine/js/js-engine.js';
import { conformanceFactories } from '../engines.js';
import { expectClose, prng, randoms } from '../support.js';

/** float32 arithmetic in another order (or with FMA) against float64 loops. */
export const TOL = 1e-5;

export interface OpCase {
  label: string;
  /** Every operand's contents before the op (outputs included: some ops accumulate into them). */
  data: Record<string, Float32Array>;
  /** Operands that share another operand's range (in-place use): name → the operand it aliases. */
  alias?: Record<string, string>;
  /**
   * Operands given a tensor of their own at offset 0, unpadded: what an engine may require of the
   * scratch tensors it lays out itself (recurrentForward's saved), to take its fast path.
   */
  whole?: string[];
  /**
   * Operands at a chosen offset in a padded tensor (name → offset): a multiple of 4 reaches the
   * GPU engines' four-floats-a-thread kernels (emit4), which the odd default offset never does.
   */
  at?: Record<string, number>;
  /** The operands whose contents are compared afterwards. */
  outputs: string[];
  /** Default TOL; 0 for ops that only move data. */
  tolerance?: number;
  run(e: Engine, o: Operands): void;
}

/**
 * o('out', 'x') is { out, outOff, x, xOff } for those operands, to spread into an op's arguments;
 * typed loosely on purpose, since the op's own argument type checks nothing at run time.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Operands = (...names: string[]) => any;

const PAD = 3;

function place(e: Engine, c: OpCase, rng: () => number): Map<string, [Tensor, number]> {
  const at = new Map<string, [Tensor, number]>();
  for (const [name, data] of Object.entries(c.data)) {
    if (c.alias?.[name]) continue;
    if (c.whole?.includes(name)) {
      const t = e.tensor(data.length);
      e.write(t, data);
      at.set(name, [t, 0]);
      continue;
    }
    const off = c.at?.[name] ?? PAD;
    const pad = randoms(rng, off + data.length + 2);
    pad.set(data, off);
    const t = e.tensor(pad.length);
    e.write(t, pad);
    at.set(name, [t, off]);
  }
  for (const [name, target] of Object.entries(c.alias ?? {})) at.set(name, at.get(target)!);
  return at;
}

async function runCase(e: Engine, c: OpCase): Promise<Map<string, Float32Array>> {
  const at = place(e, c, prng(99));
  const o: Operands = (...names) => Object.fromEntries(names.flatMap((n) => {
    const p = at.get(n);
    if (!p) throw new Error(`case ${c.label}: no operand ${n}`);
    return [[n, p[0]], [`${n}Off`, p[1]]];
  }));
  c.run(e, o);
  const out = new Map<string, Float32Array>();
  for (const name of c.outputs) out.set(name, await e.read(at.get(name)![0]));
  return out;
}

/** The suite of one op family: every case on every engine against the js engine. */
export function conformance(family: string, cases: OpCase[]): void {
  describe.each(conformanceFactories)(`${family}: $name against the js engine`, (f) => {
    let e: Engine;
    const js = createJsEngine();
    beforeAll(async () => { e = await f.create(); });
    afterAll(() => e?.dispose());
    for (const c of cases) {
      it(c.label, async () => {
        const want = await runCase(js, c), got = await runCase(e, c);
        for (const name of c.outputs) expectClose(got.get(name)!, want.get(name)!, c.tolerance ?? TOL, `${c.label}: ${name}`);
      });
    }
  });
}

/** n random ids in [0, limit). */
export function ids(rng: () => number, n: number, limit: number): Float32Array {
  return Float32Array.from({ length: n }, () => Math.floor(rng() * limit));
}

export { prng, randoms };
