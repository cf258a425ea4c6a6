// The classic cells' recurrence as one op (recurrentForward/Backward) against the js engine, which
// composes it from the per-step ops. A GPU engine runs its fused one-kernel-per-step path where the
// hidden size is whole four-unit threads and saved/scratch sit whole at offset 0; the other shapes
// (an odd hidden size, a padded saved tensor) check its fallback to the per-step ops.
import { GATES, type RecurrentCell } from '../../src/engine/engine-api.js';
import { conformance, type OpCase, prng, randoms } from './harness.js';

const rng = prng(7);
const r = (n: number, scale = 1) => randoms(rng, n, scale);

/** Room for every engine's layout (recurrentSizes): composed and fused. */
function room(cell: RecurrentCell, steps: number, batch: number, hidden: number): { saved: number; scratch: number } {
  const n = steps * batch * hidden, bh = batch * hidden;
  if (cell === 'lstm') return { saved: 4 * n, scratch: Math.max(4 * n, 2 * bh) };
  if (cell === 'gru') return { saved: 6 * n, scratch: Math.max(4 * n, bh) };
  return { saved: n, scratch: n };
}

const cases: OpCase[] = [];
for (const cell of ['lstm', 'gru', 'rnn'] as const) {
  const G = GATES[cell];
  for (const [steps, batch, hidden, padded] of [[1, 1, 4, false], [5, 3, 8, false], [9, 2, 12, false], [3, 2, 5, false], [4, 2, 8, true]] as const) {
    const n = steps * batch * hidden, bh = batch * hidden, size = room(cell, steps, batch, hidden);
    const shape = `${cell} steps=${steps} batch=${batch} hidden=${hidden}${padded ? ', saved and scratch padded' : ''}`;
    const data = () => ({
      x: r(G * n, 2), w: r(G * hidden * hidden, 0.5), h: r(n + bh), ...(cell === 'lstm' ? { c: r(n + bh) } : {}),
      ...(cell === 'gru' ? { bias: r(G * hidden, 0.5) } : {}), saved: r(size.saved),
    });
    const fwd = ['x', 'w', 'h', 'saved', ...(cell === 'lstm' ? ['c'] : []), ...(cell === 'gru' ? ['bias'] : [])];
    const whole = padded ? [] : ['saved', 'scratch'];
    cases.push({
      label: `recurrentForward ${shape}`, data: data(), whole, outputs: cell === 'lstm' ? ['h', 'c'] : ['h'],
      run: (e, o) => e.recurrentForward({ cell, ...o(...fwd), steps, batch, hidden }),
    });
    cases.push({
      label: `recurrentBackward ${shape}`,
      data: { ...data(), dh: r(n), dx: r(G * n), ...(cell === 'gru' ? { dRec: r(G * n) } : {}), scratch: r(size.scratch) },
      whole, outputs: cell === 'gru' ? ['dx', 'dRec'] : ['dx'],
      run: (e, o) => {
        e.recurrentForward({ cell, ...o(...fwd), steps, batch, hidden });
        const back = ['w', 'x', 'h', 'saved', 'dh', 'dx', 'scratch', ...(cell === 'lstm' ? ['c'] : []), ...(cell === 'gru' ? ['dRec'] : [])];
        e.recurrentBackward({ cell, ...o(...back), steps, batch, hidden });
      },
    });
  }
}

conformance('recurrence', cases);
