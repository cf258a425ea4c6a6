// Matrix-product speed of any Engine, for `charnn bench --speed`: the median of timed reps after a
// warm-up long enough for lazy compilation to settle (V8 runs wasm in baseline code for the first
// tens of milliseconds, at a fraction of the optimized speed; gpu.js compiles kernels on first use).
import type { Engine } from './engine-api.js';

export interface BenchMatmulOptions {
  transA?: boolean;
  transB?: boolean;
  /** Timed repetitions (default 10). */
  reps?: number;
  /** Untimed repetitions first, at least (default 2). */
  warmup?: number;
  /** Keep warming up until this much time has passed (default 300 ms). */
  warmupMs?: number;
}

export interface BenchMatmulResult {
  gflops: number;
  msMedian: number;
}

export async function benchMatmul(engine: Engine, m: number, n: number, k: number,
  opts: BenchMatmulOptions = {}): Promise<BenchMatmulResult> {
  const reps = Math.max(1, opts.reps ?? 10);
  const warmup = Math.max(0, opts.warmup ?? 2);
  const a = engine.tensor(m * k), b = engine.tensor(k * n), c = engine.tensor(m * n);
  engine.write(a, randomData(m * k, 1));
  engine.write(b, randomData(k * n, 2));
  const run = () => engine.matmul({ c, a, b, m, n, k, transA: opts.transA, transB: opts.transB });
  const warmupMs = opts.warmupMs ?? 300;
  const start = performance.now();
  for (let i = 0; i < warmup || performance.now() - start < warmupMs; i++) {
    run();
    await engine.sync();
  }
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    run();
    await engine.sync();
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  const mid = times.length >> 1;
  const msMedian = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  return { gflops: (2 * m * n * k) / (msMedian * 1e6), msMedian };
}

/** Deterministic values in [-0.5, 0.5), so runs are comparable. */
function randomData(len: number, seed: number): Float32Array {
  const out = new Float32Array(len);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < len; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}
