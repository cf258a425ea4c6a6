// The fused inference step of every engine against the training forward (chunks with the state
// carried), its bitwise invariance to thread count and stream count on simd, state round trips,
// and the sampler built on it: batches of samples, stop strings, interruption, the picker.
import { afterAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/engine-api.js';
import { createSimdEngine } from '../src/engine/simd/simd-engine.js';
import { CELLS, type Cell, validateConfig, type ModelConfig } from '../src/model/config.js';
import { InferSession } from '../src/model/infer-session.js';
import { Weights, Workspace } from '../src/model/model.js';
import { initParams, paramLayout } from '../src/model/params.js';
import { Rng } from '../src/rng.js';
import { Picker } from '../src/sample/pick.js';
import { sample } from '../src/sample/sample.js';
import { Vocab } from '../src/text/vocab.js';
import { engineFactories } from './engines.js';

const factories = [
  ...engineFactories,
  // Small models run a step on one thread unless forced: this covers the split kernel and its barriers.
  { name: 'simd, 2 threads forced', create: () => createSimdEngine({ threads: 2, forceParallel: true }) },
];

/** Odd widths everywhere, and for the residual cells both a stem (embed ≠ hidden) and none. */
function configs(cell: Cell): ModelConfig[] {
  const c = [validateConfig({ cell, vocab: 11, embed: 5, hidden: 13, layers: 2, mlp: 2 })];
  if (cell === 'mingru' || cell === 'minlstm') {
    c.push(validateConfig({ cell, vocab: 9, embed: 37, hidden: 37, layers: 3, mlp: 1 }));
    c.push(validateConfig({ cell, vocab: 9, embed: 6, hidden: 10, layers: 1, mlp: 0 }));
  } else {
    c.push(validateConfig({ cell, vocab: 9, embed: 40, hidden: 37, layers: 3 }));
    // Zoneout's expected state in every engine's step and in the training forward's inference mode.
    if (cell === 'gru') c.push(validateConfig({ cell, vocab: 9, embed: 6, hidden: 37, layers: 2, zoneout: 0.3 }));
    // Normalised gates: the fused step on simd (a barrier for the RMS), the plain loops of the js plan, the composed plan on gpu.js.
    if (cell === 'gru') c.push(validateConfig({ cell, vocab: 9, embed: 6, hidden: 13, layers: 2, gateNorm: true }));
    if (cell === 'gru') c.push(validateConfig({ cell, vocab: 11, embed: 40, hidden: 37, layers: 3, gateNorm: true, zoneout: 0.2 }));
  }
  return c;
}

function weights(e: Engine, cfg: ModelConfig, seed: number): Weights {
  return new Weights(e, cfg, initParams(cfg, paramLayout(cfg), new Rng(seed)));
}

const engines = new Map<string, Engine>();
async function engine(name: string): Promise<Engine> {
  if (!engines.has(name)) engines.set(name, await factories.find((f) => f.name === name)!.create());
  return engines.get(name)!;
}
afterAll(() => { for (const e of engines.values()) e.dispose(); });

describe.each(factories.map((f) => f.name))('%s: the fused step equals the training forward', (name) => {
  it.each(CELLS)('%s', async (cell) => {
    const e = await engine(name);
    for (const cfg of configs(cell)) {
      const B = 3, T = 5, rng = new Rng(7);
      const w = weights(e, cfg, 11);
      const ids = Float32Array.from({ length: 2 * B * T }, () => rng.int(cfg.vocab));
      // Reference: two chunks of T steps with the state carried, as eval streams them.
      const ws = new Workspace(w, B, T, false);
      const ref: Float32Array[] = [];
      for (let chunk = 0; chunk < 2; chunk++) {
        ws.setInputs(ids.subarray(chunk * B * T, (chunk + 1) * B * T));
        ws.forward();
        ws.carryState();
        ref.push(await e.read(ws.logits));
      }
      const session = new InferSession(w, B);
      let worst = 0;
      for (let t = 0; t < 2 * T; t++) {
        const step = Array.from(ids.subarray(t * B, (t + 1) * B));
        // Every third step only feeds: the state must advance the same without the head.
        if (t % 3 === 1) { session.feed(step); continue; }
        const got = await session.step(step);
        const want = ref[Math.floor(t / T)].subarray((t % T) * B * cfg.vocab, (t % T + 1) * B * cfg.vocab);
        for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
      }
      expect(worst, `${JSON.stringify(cfg)}`).toBeLessThan(1e-5);
    }
  });
});

/** Logits of `steps` steps of stream inputs ids[t][s]. */
async function run(e: Engine, cfg: ModelConfig, streams: number, ids: number[][]): Promise<Float32Array[]> {
  const session = new InferSession(weights(e, cfg, 5), streams);
  const out: Float32Array[] = [];
  for (const step of ids) out.push((await session.step(step.slice(0, streams))).slice());
  return out;
}

describe('simd: every stream is computed alone', () => {
  it.each(CELLS)('%s: 1 vs 2 threads and stream 0 of 3 vs a single stream, bit for bit', async (cell) => {
    const one = await engine('simd, 1 thread'), two = await engine('simd, 2 threads forced');
    for (const cfg of configs(cell)) {
      const rng = new Rng(3);
      const ids = Array.from({ length: 12 }, () => Array.from({ length: 3 }, () => rng.int(cfg.vocab)));
      const a = await run(one, cfg, 3, ids), b = await run(two, cfg, 3, ids);
      const single1 = await run(one, cfg, 1, ids), single2 = await run(two, cfg, 1, ids);
      for (let t = 0; t < ids.length; t++) {
        expect(Buffer.from(b[t].buffer).equals(Buffer.from(a[t].buffer))).toBe(true);
        expect(Array.from(single1[t])).toEqual(Array.from(a[t].subarray(0, cfg.vocab)));
        expect(Array.from(single2[t])).toEqual(Array.from(single1[t]));
      }
    }
  });
});

describe.each(['js', 'gpu.js cpu', 'simd, 2 threads forced'])('%s: state', (name) => {
  it.each(CELLS)('%s: read, write and reset', async (cell) => {
    const e = await engine(name), cfg = configs(cell)[0], w = weights(e, cfg, 9);
    const a = new InferSession(w, 2), b = new InferSession(w, 2);
    for (let t = 0; t < 4; t++) a.feed([t % cfg.vocab, (t + 3) % cfg.vocab]);
    const state = await a.readState();
    expect(state.length).toBe(a.stateSize);
    expect(state.some((v) => v !== 0)).toBe(true);
    b.writeState(state);
    expect(Array.from(await b.step([1, 2]))).toEqual(Array.from(await a.step([1, 2])));
    a.reset();
    const fresh = new InferSession(w, 2);
    expect(Array.from(await a.step([4, 0]))).toEqual(Array.from(await fresh.step([4, 0])));
  });
});

const TEXT = 'the quick brown fox jumps over the lazy dog. ';

describe.each([1, 2])('sample, simd %i thread(s)', (threads) => {
  const make = async () => threads === 1 ? engine('simd, 1 thread') : engine('simd, 2 threads forced');
  const vocab = Vocab.fromText(TEXT);
  const cfg = validateConfig({ cell: 'lstm', vocab: vocab.size, embed: 8, hidden: 20, layers: 2 });

  it('stream 0 of a batch is the single sample; stream i depends only on (seed, i)', async () => {
    const w = weights(await make(), cfg, 1);
    const base = { prime: 'the ', length: 60, temperature: 1, seed: 42 };
    const single = await sample(w, vocab, base);
    const three = await sample(w, vocab, { ...base, count: 3 });
    const two = await sample(w, vocab, { ...base, count: 2 });
    expect(three.texts[0]).toBe(single.text);
    expect(two.texts[1]).toBe(three.texts[1]);
    expect(three.texts[1]).not.toBe(three.texts[0]);
    expect(three.texts.every((t) => t.length === 64 && t.startsWith('the '))).toBe(true);
    const other = await sample(w, vocab, { ...base, seed: 43 });
    expect(other.text).not.toBe(single.text);
  });

  it('streams text as it is produced and stops each stream at the stop string', async () => {
    const w = weights(await make(), cfg, 2);
    const pieces = ['', '', ''];
    const r = await sample(w, vocab, {
      prime: 'a', length: 400, temperature: 1.5, seed: 1, count: 3, stop: 'e ', onText: (s, p) => { pieces[s] += p; },
    });
    expect(pieces).toEqual(r.texts);
    for (let s = 0; s < 3; s++) {
      const gen = r.texts[s].slice(1);
      if (r.ended[s] === 'stop') {
        expect(gen.endsWith('e ')).toBe(true);
        expect(gen.indexOf('e ')).toBe(gen.length - 2);
      } else {
        expect(r.ended[s]).toBe('length');
        expect(gen.length).toBe(400);
        expect(gen.includes('e ')).toBe(false);
      }
    }
    expect(r.ended).toContain('stop');
  });

  it('shouldStop ends sampling at once', async () => {
    const w = weights(await make(), cfg, 3);
    let polls = 0;
    const r = await sample(w, vocab, { prime: 'x', length: 100, temperature: 1, seed: 5, count: 2, shouldStop: () => ++polls > 7 });
    expect(r.generated).toBe(14);
    expect(r.ended).toEqual(['interrupted', 'interrupted']);
    expect(r.texts.map((t) => t.length)).toEqual([8, 8]);
  });
});

describe('Picker', () => {
  const V = 23, rng = new Rng(1);
  const logits = Float32Array.from({ length: 2 * V }, () => rng.normal() * 2);
  const probs = (off: number, temp: number) => {
    const row = Array.from(logits.subarray(off, off + V), (l) => Math.exp(l / temp));
    const sum = row.reduce((a, b) => a + b, 0);
    return row.map((p) => p / sum);
  };

  it('draws by inverse CDF over the softmax at the temperature', () => {
    const p = probs(V, 0.7), picker = new Picker(V, { temperature: 0.7 });
    const a = new Rng(9), b = new Rng(9);
    for (let i = 0; i < 2000; i++) {
      const u = b.uniform();
      let acc = 0, want = V - 1;
      for (let j = 0; j < V; j++) { acc += p[j]; if (u < acc) { want = j; break; } }
      expect(picker.pick(logits, V, a)).toBe(want);
    }
  });

  it('keeps only the top k, or the nucleus, and greedy takes the argmax', () => {
    const p = probs(0, 1), order = p.map((_, i) => i).sort((x, y) => p[y] - p[x]);
    const topK = new Picker(V, { temperature: 1, topK: 3 }), topP = new Picker(V, { temperature: 1, topP: 0.5 });
    let acc = 0, n = 0;
    while (acc < 0.5) acc += p[order[n++]];
    const nucleus = new Set(order.slice(0, n)), seen = new Set<number>();
    const r = new Rng(2);
    for (let i = 0; i < 3000; i++) {
      const k = topK.pick(logits, 0, r);
      seen.add(k);
      expect(order.slice(0, 3)).toContain(k);
      expect(nucleus.has(topP.pick(logits, 0, r))).toBe(true);
    }
    expect(seen.size).toBe(3);
    expect(new Picker(V, { temperature: 1, greedy: true }).pick(logits, 0, r)).toBe(order[0]);
  });
});
