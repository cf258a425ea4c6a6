// The op layer's refusals, the same on every engine: a bad operand is a clear error before any
// kernel runs, and leaves the tensors as they were.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine-api.js';
import { createJsEngine } from '../../src/engine/js/js-engine.js';
import { conformanceFactories, type EngineFactory } from '../engines.js';

const factories: EngineFactory[] = [{ name: 'js', create: async () => createJsEngine() }, ...conformanceFactories];

describe.each(factories)('op layer on $name', (f) => {
  let e: Engine;
  beforeAll(async () => { e = await f.create(); });
  afterAll(() => e.dispose());

  it('refuses ranges outside a tensor, naming the op, the operand and the tensor size', async () => {
    const t = e.tensor(8);
    e.write(t, Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(() => e.copy({ dst: t, dstOff: 5, src: t, len: 3 })).not.toThrow();
    expect(() => e.copy({ dst: t, dstOff: 6, src: t, len: 3 })).toThrow('copy: dst range [6, 9) outside a tensor of 8 floats');
    expect(() => e.zero({ out: t, outOff: 9 })).toThrow('zero: out range [9, 9) outside a tensor of 8 floats');
    expect(() => e.matmul({ c: t, a: t, b: t, m: 3, n: 4, k: 1 })).toThrow('matmul: C range [0, 12) outside a tensor of 8 floats');
    expect(() => e.write(t, new Float32Array(3), 6)).toThrow('write: target range [6, 9) outside a tensor of 8 floats');
    await expect(e.read(t, 7, 2)).rejects.toThrow(RangeError);
    expect(Array.from(await e.read(t))).toEqual([1, 2, 3, 4, 5, 1, 2, 3]);
  });

  it('refuses counts and offsets that are not non-negative integers', () => {
    const t = e.tensor(8);
    expect(() => e.mul({ out: t, a: t, b: t, len: -1 })).toThrow('mul: len must be a non-negative integer, got -1');
    expect(() => e.broadcastRow({ out: t, row: t, rows: 1.5, cols: 2 })).toThrow(RangeError);
    expect(() => e.tanhForward({ out: t, x: t, xOff: 0.5, len: 1 })).toThrow('tanhForward: x offset must be a non-negative integer');
    expect(() => e.tensor(-1)).toThrow(RangeError);
  });

  it('refuses outputs that overlap an input, except where the op allows in-place use', () => {
    const t = e.tensor(16);
    expect(() => e.add({ out: t, a: t, b: t, bOff: 8, len: 8 })).not.toThrow();
    expect(() => e.add({ out: t, outOff: 1, a: t, b: t, bOff: 8, len: 8 })).toThrow('add: out range [1, 9) overlaps a range [0, 8) of the same tensor');
    expect(() => e.copy({ dst: t, dstOff: 2, src: t, len: 4 })).toThrow(/copy: dst range \[2, 6\) overlaps src/);
    expect(() => e.tanhBackward({ dx: t, y: t, yOff: 8, dy: t, len: 8 })).not.toThrow();
    expect(() => e.tanhBackward({ dx: t, y: t, dy: t, dyOff: 8, len: 8 })).toThrow(/overlaps y/);
    expect(() => e.matmul({ c: t, a: t, aOff: 8, b: t, bOff: 12, m: 2, n: 2, k: 2 })).not.toThrow();
    expect(() => e.matmul({ c: t, cOff: 6, a: t, aOff: 8, b: t, bOff: 12, m: 2, n: 2, k: 2 })).toThrow(/C range \[6, 10\) overlaps A/);
    expect(() => e.matmul({ c: t, a: t, aOff: 8, b: t, bOff: 12, m: 2, n: 2, k: 2, bias: t, biasOff: 3 })).toThrow(/C range \[0, 4\) overlaps bias/);
    expect(() => e.matmul({ c: t, a: t, aOff: 8, b: t, bOff: 12, m: 2, n: 2, k: 2, bias: t, biasOff: 15 })).toThrow('matmul: bias range [15, 17) outside');
    const u = e.tensor(16);
    expect(() => e.geluForward({ out: t, x: u, len: 4, e: t, eOff: 2 })).toThrow(/geluForward: out range \[0, 4\) overlaps e range \[2, 6\)/);
    expect(() => e.geluBackward({ dx: t, x: u, dy: t, len: 4, e: t })).toThrow(/geluBackward: dx range \[0, 4\) overlaps e/);
    expect(() => e.rmsNormBackward({ x: u, w: u, rstd: u, dOut: u, dx: t, dw: t, dwOff: 8, rows: 2, cols: 2, residual: t, residualOff: 1 }))
      .toThrow(/rmsNormBackward: dx range \[0, 4\) overlaps residual/);
    expect(() => e.rmsNormBackward({ x: u, w: u, rstd: u, dOut: u, dx: t, dw: t, dwOff: 8, rows: 2, cols: 2, residual: t })).not.toThrow();
    const scan = { cell: 'mingru' as const, proj: u, act: t, actOff: 8, h: u, hOff: 8, steps: 1, batch: 1, hidden: 2 };
    expect(() => e.minScanForward({ ...scan, residual: t, residualOff: 12, sum: t, sumOff: 13 })).toThrow(/minScanForward: sum range \[13, 15\) overlaps residual/);
    expect(() => e.minScanForward({ ...scan, residual: t, residualOff: 12, sum: t, sumOff: 12 })).not.toThrow();
    expect(() => e.minScanForward({ ...scan, residual: t })).toThrow('minScanForward: residual and sum go together');
  });

  it('refuses tensors and inference plans of another engine', () => {
    const other = createJsEngine(), u = other.tensor(4), t = e.tensor(4);
    expect(() => e.copy({ dst: t, src: u, len: 2 })).toThrow(new TypeError('copy: src is not a tensor of this engine'));
    expect(() => e.write(u, new Float32Array(1))).toThrow(TypeError);
    const classic = { wx: 0, wh: 0, bx: 0, bh: null, normX: null, normH: null };
    const model = {
      cell: 'rnn' as const, vocab: 3, embed: 2, hidden: 2, layers: 1, mlp: 0, params: other.tensor(64),
      eps: 1e-5, embedding: 0, head: { w: 0, b: 0 }, stem: null, normF: null, classic: [classic], residual: [],
    };
    expect(() => e.inferPrepare(model, 1)).toThrow('inferPrepare: params is not a tensor of this engine');
    expect(() => other.inferPrepare({ ...model, classic: [] }, 1)).toThrow('inferPrepare: a rnn model needs 1 classic layer offsets and no residual ones');
    expect(() => other.inferPrepare({ ...model, layers: 2 }, 1)).toThrow(/needs 2 classic layer offsets/);
    expect(() => other.inferPrepare({ ...model, cell: 'mingru' }, 1)).toThrow(/a mingru model needs 1 residual layer offsets and no classic ones/);
    expect(() => other.inferPrepare({ ...model, classic: [{ ...classic, normX: 8, normH: 12 }] }, 1)).toThrow('inferPrepare: gateNorm is only for gru, got rnn');
    const plan = other.inferPrepare(model, 1);
    expect(() => e.inferReset(plan)).toThrow(TypeError);
  });

  it.skipIf(f.name.includes('device storage') || /headlessgl|webgpu/.test(f.name))('refuses ids outside the table where they are in host memory', () => {
    const table = e.tensor(6), out = e.tensor(4), idt = e.tensor(2), losses = e.tensor(2);
    e.write(idt, Float32Array.from([0, 3]));
    expect(() => e.embedding({ out, table, ids: idt, n: 2, dim: 2 })).toThrow('embedding: ids[1] = 3 is not an id in [0, 3)');
    expect(() => e.embeddingBackward({ dTable: table, dOut: out, ids: idt, n: 2, dim: 2, vocab: 3 })).toThrow(/ids\[1\] = 3/);
    expect(() => e.softmaxXent({ logits: table, targets: idt, losses, rows: 2, vocab: 3 })).toThrow(/targets\[1\] = 3/);
    e.write(idt, Float32Array.from([0.5, 1]));
    expect(() => e.embedding({ out, table, ids: idt, n: 2, dim: 2 })).toThrow(/ids\[0\] = 0.5/);
  });

  it('refuses every op once disposed', async () => {
    const d = await f.create(), t = d.tensor(4);
    d.dispose();
    expect(() => d.zero({ out: t })).toThrow(/used after dispose/);
    expect(() => d.tensor(1)).toThrow(/used after dispose/);
  });
});
