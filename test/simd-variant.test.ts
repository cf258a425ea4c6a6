// The two builds of the simd kernels: which one a process picks, and that both compute the same
// model to float32 rounding while each stays bit-identical across thread counts.
import { describe, expect, it } from 'vitest';
import { createJsEngine } from '../src/engine/js/js-engine.js';
import { createSimdEngine } from '../src/engine/simd/simd-engine.js';
import { chooseVariant, relaxedSimdRuns, type KernelVariant } from '../src/engine/simd/variant.js';
import { prng } from './support.js';

describe('simd kernel variant choice', () => {
  it('honours CHARNN_SIMD_KERNELS and refuses anything else', () => {
    expect(chooseVariant({ CHARNN_SIMD_KERNELS: 'plain' })).toBe('plain');
    expect(chooseVariant({})).toBe(relaxedSimdRuns() ? 'relaxed' : 'plain');
    expect(() => chooseVariant({ CHARNN_SIMD_KERNELS: 'fast' })).toThrow(/CHARNN_SIMD_KERNELS must be plain or relaxed/);
    if (relaxedSimdRuns()) expect(chooseVariant({ CHARNN_SIMD_KERNELS: 'relaxed' })).toBe('relaxed');
    else expect(() => chooseVariant({ CHARNN_SIMD_KERNELS: 'relaxed' })).toThrow(/cannot run relaxed SIMD/);
  });

  it('Node 20.19+ runs relaxed SIMD (behind a V8 flag the engine sets)', () => {
    expect(relaxedSimdRuns()).toBe(true);
  });
});

describe.runIf(relaxedSimdRuns())('both kernel builds', () => {
  const rng = prng(11);
  const rand = (n: number) => Float32Array.from({ length: n }, () => rng() * 2 - 1);

  async function product(variant: KernelVariant, threads: number, A: Float32Array, B: Float32Array, m: number, n: number, k: number) {
    const e = await createSimdEngine({ variant, threads, forceParallel: true });
    try {
      expect(e.variant).toBe(variant);
      const a = e.tensor(A.length), b = e.tensor(B.length), c = e.tensor(m * n);
      e.write(a, A); e.write(b, B);
      e.matmul({ c, a, b, m, n, k });
      return await e.read(c);
    } finally {
      e.dispose();
    }
  }

  it('agree with the js engine to float32 rounding and each is bit-identical on 1 and 2 threads', async () => {
    const m = 37, n = 70, k = 300;
    const A = rand(m * k), B = rand(k * n);
    const js = createJsEngine();
    const a = js.tensor(A.length), b = js.tensor(B.length), c = js.tensor(m * n);
    js.write(a, A); js.write(b, B);
    js.matmul({ c, a, b, m, n, k });
    const want = await js.read(c);
    const out: Record<string, Float32Array> = {};
    for (const v of ['plain', 'relaxed'] as const) {
      const one = await product(v, 1, A, B, m, n, k), two = await product(v, 2, A, B, m, n, k);
      expect(Buffer.from(two.buffer).equals(Buffer.from(one.buffer))).toBe(true);
      for (let i = 0; i < want.length; i++) expect(Math.abs(one[i] - want[i])).toBeLessThan(1e-4);
      out[v] = one;
    }
    // Each build is the sequential float32 sum over k, with one rounding per product and add
    // (plain) or one per multiply-add (relaxed, where the machine fuses it; the spec allows either).
    const seq = (fused: boolean) => {
      const r = new Float32Array(m * n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) { const x = A[i * k + p] * B[p * n + j]; s = Math.fround(s + (fused ? x : Math.fround(x))); }
        r[i * n + j] = s;
      }
      return r;
    };
    expect(Buffer.from(out.plain.buffer).equals(Buffer.from(seq(false).buffer))).toBe(true);
    const fusedRef = seq(true), plainRef = seq(false);
    const relaxedIs = Buffer.from(out.relaxed.buffer).equals(Buffer.from(fusedRef.buffer)) || Buffer.from(out.relaxed.buffer).equals(Buffer.from(plainRef.buffer));
    expect(relaxedIs).toBe(true);
  });
});
