// Data movement, elementwise arithmetic, row reductions, embeddings and the matrix product.
import { conformance, ids, type OpCase, prng, randoms } from './harness.js';

const rng = prng(1);
const r = (n: number, scale = 1) => randoms(rng, n, scale);

const cases: OpCase[] = [];

for (const len of [0, 1, 67, 1031]) {
  cases.push({
    label: `zero ${len}`, data: { out: r(len) }, outputs: ['out'], tolerance: 0,
    run: (e, o) => e.zero({ ...o('out'), len }),
  });
  cases.push({
    label: `copy ${len}`, data: { dst: r(len), src: r(len) }, outputs: ['dst'], tolerance: 0,
    run: (e, o) => e.copy({ ...o('dst', 'src'), len }),
  });
  for (const op of ['mul', 'add'] as const) {
    cases.push({
      label: `${op} ${len}`, data: { out: r(len), a: r(len), b: r(len) }, outputs: ['out'],
      run: (e, o) => e[op]({ ...o('out', 'a', 'b'), len }),
    });
  }
}
for (const op of ['mul', 'add'] as const) {
  for (const on of ['a', 'b']) {
    cases.push({
      label: `${op} in place on ${on}`, data: { out: r(77), a: r(77), b: r(77) }, alias: { out: on }, outputs: [on],
      run: (e, o) => e[op]({ ...o('out', 'a', 'b'), len: 77 }),
    });
  }
}

for (const [rows, cols] of [[1, 1], [5, 3], [13, 37], [130, 17]]) {
  cases.push({
    label: `broadcastRow ${rows}x${cols}`, data: { out: r(rows * cols), row: r(cols) }, outputs: ['out'], tolerance: 0,
    run: (e, o) => e.broadcastRow({ ...o('out', 'row'), rows, cols }),
  });
  for (const accumulate of [false, true]) {
    cases.push({
      label: `sumRows ${rows}x${cols}${accumulate ? ' accumulate' : ''}`, data: { out: r(cols), x: r(rows * cols) }, outputs: ['out'],
      run: (e, o) => e.sumRows({ ...o('out', 'x'), rows, cols, accumulate }),
    });
  }
}

// Shapes around the kernels' tiles (4×8 register tile, 64/256/512 blocks) and past gpu.js's loop cap (k = 1500).
const SHAPES: [number, number, number][] = [[1, 1, 1], [5, 7, 3], [33, 65, 40], [3, 5, 1500], [70, 9, 130]];
for (const [m, n, k] of SHAPES) {
  for (const transA of [false, true]) for (const transB of [false, true]) for (const accumulate of [false, true]) {
    cases.push({
      label: `matmul ${m}x${n}x${k}${transA ? ' transA' : ''}${transB ? ' transB' : ''}${accumulate ? ' accumulate' : ''}`,
      data: { c: r(m * n), a: r(m * k), b: r(k * n) }, outputs: ['c'],
      run: (e, o) => e.matmul({ ...o('c', 'a', 'b'), m, n, k, transA, transB, accumulate }),
    });
  }
  // A bias row starts every sum, after C's own value when accumulating.
  for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
    for (const accumulate of [false, true]) {
      cases.push({
        label: `matmul ${m}x${n}x${k}${transA ? ' transA' : ''}${transB ? ' transB' : ''}${accumulate ? ' accumulate' : ''} with a bias row`,
        data: { c: r(m * n), a: r(m * k), b: r(k * n), bias: r(n) }, outputs: ['c'],
        run: (e, o) => e.matmul({ ...o('c', 'a', 'b', 'bias'), m, n, k, transA, transB, accumulate }),
      });
    }
  }
}
for (const accumulate of [false, true]) {
  cases.push({
    label: `matmul 4x6x0 with a bias row (the bias alone)${accumulate ? ' accumulate' : ''}`,
    data: { c: r(24), a: r(0), b: r(0), bias: r(6) }, outputs: ['c'],
    run: (e, o) => e.matmul({ ...o('c', 'a', 'b', 'bias'), m: 4, n: 6, k: 0, accumulate }),
  });
  // B packed whole (simd) across a store and a reuse, each product started by the bias.
  cases.push({
    label: `matmul 9x70x300 bCache store then reuse with a bias row${accumulate ? ' accumulate' : ''}`,
    data: { c: r(9 * 70), c2: r(9 * 70), a: r(9 * 300), a2: r(9 * 300), b: r(300 * 70), bias: r(70) }, outputs: ['c', 'c2'],
    run: (e, o) => {
      e.matmul({ ...o('c', 'a', 'b', 'bias'), m: 9, n: 70, k: 300, accumulate, bCache: 'store' });
      const { c2, c2Off, a2, a2Off } = o('c2', 'a2');
      e.matmul({ ...o('b', 'bias'), c: c2, cOff: c2Off, a: a2, aOff: a2Off, m: 9, n: 70, k: 300, accumulate, bCache: 'reuse' });
    },
  });
}

// Outputs at offsets the GPU engines write four floats a thread (matmul4, embeddingBackward4): a
// whole tensor, and a range inside a larger one (the rest carried through).
for (const [m, n, k] of [[5, 8, 3], [33, 64, 40], [3, 4, 1500]]) {
  for (const transA of [false, true]) for (const transB of [false, true]) for (const [place, accumulate] of [['whole', false], ['at 8', true], ['at 4', false]] as const) {
    cases.push({
      label: `matmul ${m}x${n}x${k}${transA ? ' transA' : ''}${transB ? ' transB' : ''}${accumulate ? ' accumulate' : ''} with a bias row, C ${place}`,
      data: { c: r(m * n), a: r(m * k), b: r(k * n), bias: r(n) }, outputs: ['c'],
      ...(place === 'whole' ? { whole: ['c'] } : { at: { c: place === 'at 8' ? 8 : 4 } }),
      run: (e, o) => e.matmul({ ...o('c', 'a', 'b', 'bias'), m, n, k, transA, transB, accumulate }),
    });
  }
}
for (const [n, dim, vocab] of [[9, 8, 4], [40, 68, 13]]) {
  cases.push({
    label: `embeddingBackward n=${n} dim=${dim} vocab=${vocab}, dTable at 4`,
    data: { dTable: r(vocab * dim), dOut: r(n * dim), ids: ids(rng, n, vocab) }, outputs: ['dTable'], at: { dTable: 4 },
    run: (e, o) => e.embeddingBackward({ ...o('dTable', 'dOut', 'ids'), n, dim, vocab }),
  });
}

for (const [n, dim, vocab] of [[1, 1, 1], [9, 5, 4], [40, 67, 13]]) {
  cases.push({
    label: `embedding n=${n} dim=${dim} vocab=${vocab}`, data: { out: r(n * dim), table: r(vocab * dim), ids: ids(rng, n, vocab) },
    outputs: ['out'], tolerance: 0,
    run: (e, o) => e.embedding({ ...o('out', 'table', 'ids'), n, dim }),
  });
  // Few rows for many ids: most ids collide, and their gradients must all add up.
  cases.push({
    label: `embeddingBackward n=${n} dim=${dim} vocab=${vocab}`,
    data: { dTable: r(vocab * dim), dOut: r(n * dim), ids: ids(rng, n, vocab) }, outputs: ['dTable'],
    run: (e, o) => e.embeddingBackward({ ...o('dTable', 'dOut', 'ids'), n, dim, vocab }),
  });
}

conformance('tensor ops', cases);
