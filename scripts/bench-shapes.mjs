// GFLOP/s of the simd matmul at the products of one minGRU block and one LSTM layer (B32 T128),
// best of a few runs each: a quick look at which shapes lose efficiency.
// Usage: node scripts/bench-shapes.mjs [threads] [D] [H]
import { createSimdEngine } from '../dist/engine/simd/simd-engine.js';

const threads = Number(process.argv[2] ?? 2), D = Number(process.argv[3] ?? 216), H = Number(process.argv[4] ?? 256);
const e = await createSimdEngine({ threads });
const n = 4096;
const shapes = [
  ['mingru proj fwd', n, 2 * D, D, {}], ['mingru mlp1 fwd', n, 2 * D, D, {}], ['mingru mlp2 fwd', n, D, 2 * D, {}],
  ['mingru dW 216x432', D, 2 * D, n, { transA: true }], ['mingru dW 432x216', 2 * D, D, n, { transA: true }],
  ['mingru dX n x D k 2D', n, D, 2 * D, { transB: true }], ['mingru dX n x 2D k D', n, 2 * D, D, { transB: true }],
  ['lstm x-proj fwd', n, 4 * H, H, {}], ['lstm step fwd', 32, 4 * H, H, {}],
  ['lstm dW', H, 4 * H, n, { transA: true }], ['lstm dX', n, H, 4 * H, { transB: true }],
];
const big = e.tensor(4 * 1024 * 1024), big2 = e.tensor(4 * 1024 * 1024), out = e.tensor(4 * 1024 * 1024);
e.write(big, Float32Array.from({ length: big.size }, (_, i) => (i % 13) / 13 - 0.5));
e.write(big2, Float32Array.from({ length: big2.size }, (_, i) => (i % 7) / 7 - 0.5));
for (const [name, m, nn, k, o] of shapes) {
  let best = Infinity;
  const reps = m * nn * k < 1e7 ? 200 : 1;
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) e.matmul({ c: out, a: big, b: big2, m, n: nn, k, accumulate: true, ...o });
    best = Math.min(best, (performance.now() - t0) / reps);
  }
  console.log(`${name.padEnd(24)} ${m}x${nn}x${k}  ${best.toFixed(2).padStart(7)} ms  ${(2 * m * nn * k / best / 1e6).toFixed(1).padStart(6)} GFLOP/s`);
}
e.dispose();
