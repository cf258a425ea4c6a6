// The loss, the gradient norm's sum of squares and the optimizer step.
import { conformance, ids, type OpCase, prng, randoms } from './harness.js';

const rng = prng(3);
const r = (n: number, scale = 1) => randoms(rng, n, scale);

const cases: OpCase[] = [];

// Logits up to ±60 overflow an exp that does not subtract the row maximum first.
for (const [rows, vocab] of [[1, 1], [1, 5], [7, 65], [33, 130]]) {
  for (const withGrad of [false, true]) {
    cases.push({
      label: `softmaxXent ${rows}x${vocab}${withGrad ? ' with dLogits, scaled' : ''}`,
      data: { logits: r(rows * vocab, 60), targets: ids(rng, rows, vocab), losses: r(rows), dLogits: r(rows * vocab) },
      outputs: ['losses', 'dLogits'], // without a gradient, dLogits stays as it was
      run: (e, o) => e.softmaxXent({
        ...o('logits', 'targets', 'losses'), ...(withGrad ? { ...o('dLogits'), scale: 1 / rows } : {}), rows, vocab,
      }),
    });
  }
}

// Lengths around the SIMD width and the partial-sum chunks (gpu.js 256, simd 4096).
for (const len of [0, 1, 3, 4, 255, 256, 257, 4095, 4096, 4097, 40_001]) {
  cases.push({
    label: `sumSquares ${len}`, data: { out: r(1), x: r(len) }, outputs: ['out'],
    run: (e, o) => e.sumSquares({ ...o('out', 'x'), len }),
  });
}

for (const [len, step] of [[1, 1], [37, 1], [1031, 9]]) {
  const pad = 5, n = len + 2 * pad;
  cases.push({
    label: `adamw over [${pad}, ${pad + len}) of ${n}, step ${step}`,
    data: { param: r(n), grad: r(n), m: r(n, 0.1), v: Float32Array.from(r(n, 0.1), Math.abs) },
    outputs: ['param', 'm', 'v'],
    run: (e, o) => {
      const { param, grad, m, v, paramOff } = o('param', 'grad', 'm', 'v');
      e.adamw({
        param, grad, m, v, off: paramOff + pad, len, lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step, gradScale: 0.7,
      });
    },
  });
}

conformance('loss and optimizer ops', cases);
