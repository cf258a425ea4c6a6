// Recurrent cells, the minimal cells' scan, RMSNorm and the activations.
import { conformance, type OpCase, prng, randoms } from './harness.js';

const rng = prng(2);
const r = (n: number, scale = 1) => randoms(rng, n, scale);

const cases: OpCase[] = [];

// Inputs up to ±12 reach the saturated ends of σ and tanh (an unclamped exp overflows there).
for (const len of [0, 1, 67, 1031]) {
  for (const op of ['tanhForward', 'geluForward'] as const) {
    cases.push({
      label: `${op} ${len}`, data: { out: r(len), x: r(len, 12) }, outputs: ['out'],
      run: (e, o) => e[op]({ ...o('out', 'x'), len }),
    });
  }
  cases.push({
    label: `tanhBackward ${len}`, data: { dx: r(len), y: r(len), dy: r(len) }, outputs: ['dx'],
    run: (e, o) => e.tanhBackward({ ...o('dx', 'y', 'dy'), len }),
  });
  cases.push({
    label: `geluBackward ${len}`, data: { dx: r(len), x: r(len, 6), dy: r(len) }, outputs: ['dx'],
    run: (e, o) => e.geluBackward({ ...o('dx', 'x', 'dy'), len }),
  });
}
/**
 * Values that hit the clamps and exp overflow: ±60 makes an unclamped GLSL tanh NaN, and ±1e20
 * overflows x² (and x³) in float32.
 */
const EXTREMES = Float32Array.from([0, -0.75, 4.5, -4.5, 9, -9, 30, -30, 60, -200, 1e4, -1e4, 1e20, -1e20]);
for (const op of ['tanhForward', 'geluForward'] as const) {
  cases.push({
    label: `${op} at extremes`, data: { out: r(EXTREMES.length), x: EXTREMES }, outputs: ['out'],
    run: (e, o) => e[op]({ ...o('out', 'x'), len: EXTREMES.length }),
  });
}
cases.push({
  label: 'geluBackward at extremes', data: { dx: r(EXTREMES.length), x: EXTREMES, dy: r(EXTREMES.length) }, outputs: ['dx'],
  run: (e, o) => e.geluBackward({ ...o('dx', 'x', 'dy'), len: EXTREMES.length }),
});
// geluForward keeping e = exp(−2u), geluBackward from it. Inputs stay where exp(−2u) is finite in
// float32 (|x| < 6): past that the engines saturate e differently, by design.
for (const len of [1, 67, 1031]) {
  cases.push({
    label: `geluForward ${len} keeping exp(−2u)`, data: { out: r(len), x: r(len, 5), e: r(len) }, outputs: ['out', 'e'],
    run: (e, o) => e.geluForward({ ...o('out', 'x', 'e'), len }),
  });
  cases.push({
    label: `geluBackward ${len} from the kept exp(−2u)`, data: { out: r(len), x: r(len, 5), e: r(len), dx: r(len), dy: r(len) },
    outputs: ['dx'],
    run: (e, o) => {
      e.geluForward({ ...o('out', 'x', 'e'), len });
      e.geluBackward({ ...o('dx', 'x', 'dy', 'e'), len });
    },
  });
}
cases.push({
  label: 'geluBackward in place (dx is dy) from the kept exp(−2u)', data: { out: r(77), x: r(77, 5), e: r(77), dx: r(77), dy: r(77) },
  alias: { dx: 'dy' }, outputs: ['dy'],
  run: (e, o) => {
    e.geluForward({ ...o('out', 'x', 'e'), len: 77 });
    e.geluBackward({ ...o('dx', 'x', 'dy', 'e'), len: 77 });
  },
});
cases.push({
  label: 'tanhBackward in place (dx is dy)', data: { dx: r(77), y: r(77), dy: r(77) }, alias: { dx: 'dy' }, outputs: ['dy'],
  run: (e, o) => e.tanhBackward({ ...o('dx', 'y', 'dy'), len: 77 }),
});
cases.push({
  label: 'geluBackward in place (dx is dy)', data: { dx: r(77), x: r(77, 6), dy: r(77) }, alias: { dx: 'dy' }, outputs: ['dy'],
  run: (e, o) => e.geluBackward({ ...o('dx', 'x', 'dy'), len: 77 }),
});

for (const [batch, hidden] of [[1, 1], [3, 5], [7, 33], [2, 130]]) {
  const bh = batch * hidden, shape = `batch=${batch} hidden=${hidden}`;
  cases.push({
    label: `lstmForward ${shape}`, data: { pre: r(4 * bh, 4), act: r(4 * bh), cPrev: r(bh), c: r(bh), h: r(bh) },
    outputs: ['act', 'c', 'h'],
    run: (e, o) => e.lstmForward({ ...o('pre', 'act', 'cPrev', 'c', 'h'), batch, hidden }),
  });
  cases.push({
    label: `lstmBackward ${shape}`,
    data: { act: r(4 * bh), cPrev: r(bh), c: r(bh, 2), dh: r(bh), dcNext: r(bh), dPre: r(4 * bh), dcPrev: r(bh) },
    outputs: ['dPre', 'dcPrev'],
    run: (e, o) => e.lstmBackward({ ...o('act', 'cPrev', 'c', 'dh', 'dcNext', 'dPre', 'dcPrev'), batch, hidden }),
  });
  cases.push({
    label: `gruForward ${shape}`, data: { gx: r(3 * bh, 3), gh: r(3 * bh, 3), hPrev: r(bh), act: r(3 * bh), h: r(bh) },
    outputs: ['act', 'h'],
    run: (e, o) => e.gruForward({ ...o('gx', 'gh', 'hPrev', 'act', 'h'), batch, hidden }),
  });
  cases.push({
    label: `gruBackward ${shape} (accumulates into dhPrev)`,
    data: { act: r(3 * bh), gh: r(3 * bh), hPrev: r(bh), dh: r(bh), dGx: r(3 * bh), dGh: r(3 * bh), dhPrev: r(bh) },
    outputs: ['dGx', 'dGh', 'dhPrev'],
    run: (e, o) => e.gruBackward({ ...o('act', 'gh', 'hPrev', 'dh', 'dGx', 'dGh', 'dhPrev'), batch, hidden }),
  });
}

for (const cell of ['mingru', 'minlstm'] as const) {
  const w = cell === 'mingru' ? 2 : 3;
  for (const [steps, batch, hidden] of [[1, 1, 1], [5, 3, 7], [17, 2, 33], [3, 9, 130]]) {
    const bh = batch * hidden, n = steps * w * bh, shape = `${cell} steps=${steps} batch=${batch} hidden=${hidden}`;
    cases.push({
      label: `minScanForward ${shape}`, data: { proj: r(n, 4), act: r(n), h: r((steps + 1) * bh) }, outputs: ['act', 'h'],
      run: (e, o) => e.minScanForward({ cell, ...o('proj', 'act', 'h'), steps, batch, hidden }),
    });
    cases.push({
      label: `minScanForward ${shape} writing the residual sum`,
      data: { proj: r(n, 4), act: r(n), h: r((steps + 1) * bh), residual: r(steps * bh, 3), sum: r(steps * bh) }, outputs: ['act', 'h', 'sum'],
      run: (e, o) => e.minScanForward({ cell, ...o('proj', 'act', 'h', 'residual', 'sum'), steps, batch, hidden }),
    });
    cases.push({
      label: `minScanForward ${shape} writing the residual sum in place (sum is residual)`,
      data: { proj: r(n, 4), act: r(n), h: r((steps + 1) * bh), residual: r(steps * bh, 3), sum: r(steps * bh) },
      alias: { sum: 'residual' }, outputs: ['h', 'residual'],
      run: (e, o) => e.minScanForward({ cell, ...o('proj', 'act', 'h', 'residual', 'sum'), steps, batch, hidden }),
    });
    cases.push({
      label: `minScanBackward ${shape}`,
      data: { proj: r(n, 4), act: r(n), h: r((steps + 1) * bh), dh: r(steps * bh), dProj: r(n) }, outputs: ['dProj'],
      // act must be the forward's activations: the backward reads gates from act and recomputes nothing.
      run: (e, o) => {
        e.minScanForward({ cell, ...o('proj', 'act', 'h'), steps, batch, hidden });
        e.minScanBackward({ cell, ...o('proj', 'act', 'h', 'dh', 'dProj'), steps, batch, hidden });
      },
    });
  }
}

for (const [rows, cols] of [[1, 1], [3, 6], [9, 67], [40, 130]]) {
  cases.push({
    label: `rmsNormForward ${rows}x${cols}`, data: { x: r(rows * cols, 3), w: r(cols), out: r(rows * cols), rstd: r(rows) },
    outputs: ['out', 'rstd'],
    run: (e, o) => e.rmsNormForward({ ...o('x', 'w', 'out', 'rstd'), rows, cols, eps: 1e-5 }),
  });
  cases.push({
    label: `rmsNormBackward ${rows}x${cols} (accumulates into dx and dw)`,
    data: { x: r(rows * cols, 3), w: r(cols), out: r(rows * cols), rstd: r(rows), dOut: r(rows * cols), dx: r(rows * cols), dw: r(cols) },
    outputs: ['dx', 'dw'],
    run: (e, o) => {
      e.rmsNormForward({ ...o('x', 'w', 'out', 'rstd'), rows, cols, eps: 1e-5 });
      e.rmsNormBackward({ ...o('x', 'w', 'rstd', 'dOut', 'dx', 'dw'), rows, cols });
    },
  });
  cases.push({
    label: `rmsNormBackward ${rows}x${cols} onto a residual (dx's old values unread)`,
    data: {
      x: r(rows * cols, 3), w: r(cols), out: r(rows * cols), rstd: r(rows), dOut: r(rows * cols), dx: r(rows * cols, 9),
      residual: r(rows * cols), dw: r(cols),
    },
    outputs: ['dx', 'dw'],
    run: (e, o) => {
      e.rmsNormForward({ ...o('x', 'w', 'out', 'rstd'), rows, cols, eps: 1e-5 });
      e.rmsNormBackward({ ...o('x', 'w', 'rstd', 'dOut', 'dx', 'dw', 'residual'), rows, cols });
    },
  });
  cases.push({
    label: `rmsNormBackward ${rows}x${cols} onto a residual in place (dx is residual)`,
    data: {
      x: r(rows * cols, 3), w: r(cols), out: r(rows * cols), rstd: r(rows), dOut: r(rows * cols), dx: r(rows * cols),
      residual: r(rows * cols), dw: r(cols),
    },
    alias: { dx: 'residual' }, outputs: ['residual', 'dw'],
    run: (e, o) => {
      e.rmsNormForward({ ...o('x', 'w', 'out', 'rstd'), rows, cols, eps: 1e-5 });
      e.rmsNormBackward({ ...o('x', 'w', 'rstd', 'dOut', 'dx', 'dw', 'residual'), rows, cols });
    },
  });
}

conformance('cell ops', cases);
