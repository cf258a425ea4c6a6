// The classic cells' recurrence composed from an engine's per-step ops: per timestep the recurrent
// product, then the cell. What an engine without its own recurrentForward runs (the CPU engines),
// op for op what the layers ran before the recurrence became one op, so their results are the same
// bits. `saved` holds the gates (and the GRU's recurrent projections) the per-step backward reads.
import type { Engine, RecurrentBackwardArgs, RecurrentCell, RecurrentForwardArgs, RecurrentSizes } from './engine-api.js';
import type { Checked } from './op-layer.js';

export function composedSizes(cell: RecurrentCell, steps: number, batch: number, hidden: number): RecurrentSizes {
  const n = steps * batch * hidden, bh = batch * hidden;
  switch (cell) {
    case 'lstm': return { saved: 4 * n, scratch: 2 * bh }; // act; dc ping-pong (an op's output must not alias its input)
    case 'gru': return { saved: 6 * n, scratch: bh }; // gh then act; the carried-in state's (unused) gradient
    case 'rnn': return { saved: 0, scratch: 0 };
  }
}

/** The weight-side operand's promise for a product repeated every timestep (see MatmulArgs.bCache). */
const cache = (first: boolean): 'store' | 'reuse' => (first ? 'store' : 'reuse');

export function composedForward(e: Engine, a: Checked<RecurrentForwardArgs>): void {
  const { steps: T, batch: B, hidden: H, x, xOff, w, wOff, h, hOff, saved, savedOff } = a;
  const bh = B * H;
  for (let t = 0; t < T; t++) {
    const hPrev = { a: h, aOff: hOff + t * bh, b: w, bOff: wOff, m: B, k: H, bCache: cache(t === 0) };
    if (a.cell === 'lstm') {
      const c = a.c!, cOff = a.cOff!, at = t * bh * 4;
      e.matmul({ ...hPrev, c: x, cOff: xOff + at, n: 4 * H, accumulate: true });
      e.lstmForward({
        pre: x, preOff: xOff + at, act: saved, actOff: savedOff + at, cPrev: c, cPrevOff: cOff + t * bh, c, cOff: cOff + (t + 1) * bh,
        h, hOff: hOff + (t + 1) * bh, batch: B, hidden: H,
      });
    } else if (a.cell === 'gru') {
      const at = t * bh * 3, act = savedOff + 3 * T * bh;
      e.matmul({ ...hPrev, c: saved, cOff: savedOff + at, n: 3 * H, bias: a.bias!, biasOff: a.biasOff! });
      e.gruForward({
        gx: x, gxOff: xOff + at, gh: saved, ghOff: savedOff + at, hPrev: h, hPrevOff: hOff + t * bh,
        act: saved, actOff: act + at, h, hOff: hOff + (t + 1) * bh, batch: B, hidden: H,
      });
    } else {
      e.matmul({ ...hPrev, c: x, cOff: xOff + t * bh, n: H, accumulate: true });
      e.tanhForward({ out: h, outOff: hOff + (t + 1) * bh, x, xOff: xOff + t * bh, len: bh });
    }
  }
}

export function composedBackward(e: Engine, a: Checked<RecurrentBackwardArgs>): void {
  const { steps: T, batch: B, hidden: H, w, wOff, h, hOff, saved, savedOff, dh, dhOff, dx, dxOff, scratch, scratchOff } = a;
  const bh = B * H, G = a.cell === 'lstm' ? 4 : a.cell === 'gru' ? 3 : 1;
  // dh_{t−1} += dPre_t·W_hᵀ, the recurrent path of the gradient.
  const recur = (t: number, d: typeof dx, dOff: number): void => {
    if (t > 0) e.matmul({ c: dh, cOff: dhOff + (t - 1) * bh, a: d, aOff: dOff + t * bh * G, b: w, bOff: wOff, m: B, n: H, k: G * H, transB: true, accumulate: true, bCache: cache(t === T - 1) });
  };
  if (a.cell === 'lstm') {
    const c = a.c!, cOff = a.cOff!, dc = [scratchOff, scratchOff + bh];
    e.zero({ out: scratch, outOff: dc[0], len: bh });
    let cur = 0;
    for (let t = T - 1; t >= 0; t--) {
      e.lstmBackward({
        act: saved, actOff: savedOff + t * bh * 4, cPrev: c, cPrevOff: cOff + t * bh, c, cOff: cOff + (t + 1) * bh,
        dh, dhOff: dhOff + t * bh, dcNext: scratch, dcNextOff: dc[cur], dPre: dx, dPreOff: dxOff + t * bh * 4, dcPrev: scratch, dcPrevOff: dc[1 - cur],
        batch: B, hidden: H,
      });
      cur = 1 - cur;
      recur(t, dx, dxOff);
    }
  } else if (a.cell === 'gru') {
    const dRec = a.dRec!, dRecOff = a.dRecOff!, act = savedOff + 3 * T * bh;
    for (let t = T - 1; t >= 0; t--) {
      e.gruBackward({
        act: saved, actOff: act + t * bh * 3, gh: saved, ghOff: savedOff + t * bh * 3, hPrev: h, hPrevOff: hOff + t * bh,
        dh, dhOff: dhOff + t * bh, dGx: dx, dGxOff: dxOff + t * bh * 3, dGh: dRec, dGhOff: dRecOff + t * bh * 3,
        dhPrev: t > 0 ? dh : scratch, dhPrevOff: t > 0 ? dhOff + (t - 1) * bh : scratchOff, batch: B, hidden: H,
      });
      recur(t, dRec, dRecOff);
    }
  } else {
    for (let t = T - 1; t >= 0; t--) {
      e.tanhBackward({ dx, dxOff: dxOff + t * bh, y: h, yOff: hOff + (t + 1) * bh, dy: dh, dyOff: dhOff + t * bh, len: bh });
      recur(t, dx, dxOff);
    }
  }
}
