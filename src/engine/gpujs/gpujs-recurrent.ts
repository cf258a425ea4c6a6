// The classic cells' recurrence on device storage: one launch per timestep each way (the fused
// kernels of kernels-recurrent.ts), then one launch per output the layer reads whole (h and c
// forward; dx and, for the GRU, dRec backward): L·(2T + 3) launches for an LSTM stack. Anything else (host storage, a hidden size that is
// not whole four-unit threads, a saved tensor not at offset 0) is left to the op layer's
// composition of per-step ops.
import type { RecurrentBackwardArgs, RecurrentCell, RecurrentForwardArgs, RecurrentSizes, Tensor } from '../engine-api.js';
import type { Checked } from '../op-layer.js';
import { composedSizes } from '../recurrent-composed.js';
import type { Backend as Storage, KernelArg } from './backend.js';
import * as R from './kernels-recurrent.js';

/** Floats a step slot of `saved` (forward) and of the backward scratch take, per batch·hidden. */
const SLOT = { lstm: 4, gru: 4, rnn: 1 } as const;

export class FusedRecurrence {
  constructor(private readonly b: Storage) {}

  private fuses(hidden: number): boolean {
    return !!this.b.emit4 && hidden > 0 && hidden % 4 === 0;
  }

  sizes(cell: RecurrentCell, steps: number, batch: number, hidden: number): RecurrentSizes {
    const composed = composedSizes(cell, steps, batch, hidden);
    if (!this.fuses(hidden)) return composed;
    const n = steps * batch * hidden;
    // Room for either: a call the fused path declines still fits the composition.
    return { saved: Math.max(SLOT[cell] * n, composed.saved), scratch: Math.max(SLOT[cell] * n, composed.scratch) };
  }

  private usable(a: { hidden: number; steps: number; batch: number }, t: Tensor, off: number): boolean {
    return this.fuses(a.hidden) && a.steps > 0 && a.batch > 0 && off === 0 && t.size % 4 === 0;
  }

  forward(a: Checked<RecurrentForwardArgs>): boolean {
    if (!this.usable(a, a.saved, a.savedOff)) return false;
    const { steps: T, batch: B, hidden: H, saved: S } = a, bh = B * H;
    const c = constants(a.cell, B, H);
    const g = gates(a.cell);
    const x = this.b.range(a.x, a.xOff, T * bh * g), w = this.b.range(a.w, a.wOff, H * H * g);
    const whole = (t: Tensor): KernelArg => this.b.range(t, 0, t.size)[0];
    const h0 = this.b.range(a.h, a.hOff, bh);
    for (let t = 0; t < T; t++) {
      // The previous state: the layer's slot 0 first, then the slot before in S.
      const first = t === 0;
      if (a.cell === 'lstm') {
        const prev = first ? [...h0, ...this.b.range(a.c!, a.cOff, bh)] : [];
        this.b.emit4!(S, 0, S.size, R.lstmStepSource({ first }), c, [whole(S), ...x, ...w, ...prev, t]);
      } else if (a.cell === 'gru') {
        const bias = this.b.range(a.bias!, a.biasOff, 3 * H);
        this.b.emit4!(S, 0, S.size, R.gruStepSource({ first }), c, [whole(S), ...x, ...w, ...bias, ...(first ? h0 : []), t]);
      } else {
        const hp = first ? h0 : [whole(S), (t - 1) * bh];
        this.b.emit4!(S, 0, S.size, R.rnnStepSource, c, [whole(S), ...x, ...w, ...hp, t]);
      }
    }
    const rows: KernelArg[] = [whole(S)];
    if (a.cell === 'lstm') {
      this.b.emit(a.h, a.hOff + bh, T * bh, R.lstmStateSource(1), c, rows);
      this.b.emit(a.c!, a.cOff + bh, T * bh, R.lstmStateSource(0), c, rows);
    } else if (a.cell === 'gru') {
      this.b.emit(a.h, a.hOff + bh, T * bh, R.gruStateSource, c, rows);
    } else {
      this.b.copy(a.h, a.hOff + bh, S, 0, T * bh);
    }
    return true;
  }

  backward(a: Checked<RecurrentBackwardArgs>): boolean {
    if (!this.usable(a, a.scratch, a.scratchOff) || !this.usable(a, a.saved, a.savedOff)) return false;
    const { steps: T, batch: B, hidden: H, saved: S, scratch: D } = a, bh = B * H;
    const g = gates(a.cell), c = constants(a.cell, B, H);
    const whole = (t: Tensor): KernelArg => this.b.range(t, 0, t.size)[0];
    const dh = this.b.range(a.dh, a.dhOff, T * bh), w = this.b.range(a.w, a.wOff, g * H * H);
    for (let t = T - 1; t >= 0; t--) {
      const v = { first: t === 0, last: t === T - 1 };
      if (a.cell === 'lstm') {
        const cp = v.first ? this.b.range(a.c!, a.cOff, bh) : [];
        this.b.emit4!(D, 0, D.size, R.lstmBackStepSource(v), c, [whole(D), whole(S), ...dh, ...w, ...cp, t]);
      } else if (a.cell === 'gru') {
        const hp = v.first ? this.b.range(a.h, a.hOff, bh) : [];
        this.b.emit4!(D, 0, D.size, R.gruBackStepSource(v), c, [whole(D), whole(S), ...this.b.range(a.x, a.xOff, 3 * T * bh), ...dh, ...w, ...hp, t]);
      } else {
        this.b.emit4!(D, 0, D.size, R.rnnBackStepSource(v), c, [whole(D), whole(S), ...dh, ...w, t]);
      }
    }
    const rows: KernelArg[] = [whole(D), whole(S)];
    if (a.cell === 'lstm') this.b.emit(a.dx, a.dxOff, T * bh * 4, R.lstmGradSource, c, [...rows, ...this.b.range(a.c!, a.cOff, bh)]);
    else if (a.cell === 'gru') {
      this.b.emit(a.dx, a.dxOff, T * bh * 3, R.gruGradSource(false), c, rows);
      this.b.emit(a.dRec!, a.dRecOff, T * bh * 3, R.gruGradSource(true), c, rows);
    } else this.b.copy(a.dx, a.dxOff, D, 0, T * bh);
    return true;
  }
}

const gates = (cell: RecurrentCell): number => (cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1);

/** The kernels' shape constants; `slot` is the threads of one step slot of the tensor written. */
function constants(cell: RecurrentCell, batch: number, h: number): Record<string, number> {
  const bh = batch * h;
  return { h, hq: h / 4, h3: 3 * h, h4: 4 * h, bs: batch, bh, slot: cell === 'rnn' ? bh / 4 : bh };
}
