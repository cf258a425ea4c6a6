// An inference plan built from an engine's ordinary ops, one op per piece of the step: what a
// backend without a fused step (gpu.js) runs. It mirrors the training forward at T = 1 but keeps
// only what the next character needs: the recurrent state, ping-ponged so no op's output aliases
// its input.
import { GATES, type Engine, type InferModel, type InferPlan, type Tensor } from './engine-api.js';
import { stateSize, stateSlices } from './infer-plan-check.js';
import { inputTable, normedGates } from './infer-table.js';
import { applyExpectedState, expectedState, type ExpectedState } from './zoneout-state.js';

export class ComposedInferPlan implements InferPlan {
  readonly vocab: number;
  readonly stateSize: number;
  /** The weights, copied at prepare time. */
  private readonly P: Tensor;
  private readonly ids: Tensor; private readonly hostIds: Float32Array;
  private readonly emb: Tensor;
  /** Classic cells: the first layer's x·W_x + b for every character, so its step is a lookup (as in the eval workspace). */
  private readonly table: Tensor | null = null;
  /** Per layer, two S×H slots [old | new] (the scan's (steps+1)·batch layout); c likewise for the LSTM. */
  private readonly h: Tensor[]; private readonly c: Tensor[];
  private readonly pre: Tensor; private readonly preH: Tensor; private readonly act: Tensor;
  private readonly xa: Tensor; private readonly xb: Tensor; private readonly x1: Tensor;
  private readonly n: Tensor; private readonly rstd: Tensor; private readonly m: Tensor; private readonly g: Tensor;
  private readonly logits: Tensor;
  /** A normalised GRU's biases broadcast to every stream, per layer: [b_x, b_h] (added after the norms). */
  private readonly biasRows: [Tensor, Tensor][] = [];
  /** GRU zoneout's expected state (src/model/zoneout.ts). */
  private readonly expected: ExpectedState | null = null;
  /** Every tensor above, for release(). */
  private readonly owned: Tensor[] = [];

  constructor(private readonly e: Engine, private readonly md: InferModel, readonly streams: number) {
    const S = streams, H = md.hidden, wide = S * Math.max(GATES[md.cell], md.mlp, 1) * H;
    this.vocab = md.vocab;
    this.stateSize = stateSize(md, streams);
    const tensor = (floats: number): Tensor => {
      const t = e.tensor(floats);
      this.owned.push(t);
      return t;
    };
    this.P = tensor(md.params.size);
    e.copy({ dst: this.P, src: md.params, len: md.params.size });
    this.ids = tensor(S); this.hostIds = new Float32Array(S);
    this.emb = tensor(S * md.embed);
    this.h = Array.from({ length: md.layers }, () => tensor(2 * S * H));
    this.c = Array.from({ length: md.cell === 'lstm' ? md.layers : 0 }, () => tensor(2 * S * H));
    this.pre = tensor(wide); this.preH = tensor(wide); this.act = tensor(wide);
    this.xa = tensor(S * H); this.xb = tensor(S * H); this.x1 = tensor(S * H);
    this.n = tensor(S * H); this.rstd = tensor(S); this.m = tensor(wide); this.g = tensor(wide);
    this.logits = tensor(S * md.vocab);
    if (md.zoneout) this.expected = expectedState(e, tensor, md.zoneout, S * H);
    for (let l = 0; l < md.classic.length; l++) {
      if (md.classic[l].normX !== null) {
        const rows = (off: number) => { const t = tensor(S * 3 * H); e.broadcastRow({ out: t, row: this.P, rowOff: off, rows: S, cols: 3 * H }); return t; };
        this.biasRows.push([rows(md.classic[l].bx), rows(md.classic[l].bh!)]);
      }
    }
    if (md.cell === 'lstm' || md.cell === 'gru' || md.cell === 'rnn') {
      this.table = tensor(md.vocab * GATES[md.cell] * H);
      inputTable(e, md, this.P, this.table);
    }
  }

  step(ids: ArrayLike<number>, logits: boolean): void {
    const { e, md, P, streams: S } = this, H = md.hidden;
    for (let s = 0; s < S; s++) this.hostIds[s] = ids[s];
    e.write(this.ids, this.hostIds);
    if (!this.table) e.embedding({ out: this.emb, table: P, tableOff: md.embedding, ids: this.ids, n: S, dim: md.embed });
    const [top, topOff] = md.cell === 'mingru' || md.cell === 'minlstm' ? this.residual() : this.classic();
    if (!logits) return;
    e.matmul({ c: this.logits, a: top, aOff: topOff, b: P, bOff: md.head.w, m: S, n: md.vocab, k: H, bias: P, biasOff: md.head.b });
  }

  private classic(): [Tensor, number] {
    const { e, md, P, streams: S } = this, H = md.hidden, G = GATES[md.cell] * H, SH = S * H;
    let x: Tensor = this.emb;
    for (let l = 0; l < md.layers; l++) {
      const o = md.classic[l], h = this.h[l];
      if (l === 0) e.embedding({ out: this.pre, table: this.table!, ids: this.ids, n: S, dim: G });
      else if (o.normX !== null) this.normed(this.pre, x, o.wx, o.normX, this.biasRows[l][0]);
      else e.matmul({ c: this.pre, a: x, b: P, bOff: o.wx, m: S, n: G, k: H, bias: P, biasOff: o.bx });
      if (md.cell === 'gru') {
        if (o.normH !== null) this.normed(this.preH, h, o.wh, o.normH, this.biasRows[l][1]);
        else e.matmul({ c: this.preH, a: h, b: P, bOff: o.wh, m: S, n: G, k: H, bias: P, biasOff: o.bh! });
        e.gruForward({ gx: this.pre, gh: this.preH, hPrev: h, act: this.act, h, hOff: SH, batch: S, hidden: H });
        if (this.expected) applyExpectedState(e, this.expected, h, 0, SH, SH);
      } else {
        e.matmul({ c: this.pre, a: h, b: P, bOff: o.wh, m: S, n: G, k: H, accumulate: true });
        if (md.cell === 'rnn') e.tanhForward({ out: h, outOff: SH, x: this.pre, len: SH });
        else e.lstmForward({ pre: this.pre, act: this.act, cPrev: this.c[l], c: this.c[l], cOff: SH, h, hOff: SH, batch: S, hidden: H });
      }
      e.copy({ dst: h, src: h, srcOff: SH, len: SH });
      if (this.c[l]) e.copy({ dst: this.c[l], src: this.c[l], srcOff: SH, len: SH });
      x = h;
    }
    return [x, 0];
  }

  /** A normalised GRU's gate pre-activations (S × 3H); this.m holds the raw product. */
  private normed(out: Tensor, a: Tensor, w: number, gain: number, biasRows: Tensor): void {
    const { md, P, streams: S } = this;
    normedGates(this.e, { out, a, P, w, gain, biasRows, raw: this.m, rstd: this.rstd, rows: S, n: 3 * md.hidden, k: md.hidden, eps: md.eps });
  }

  private residual(): [Tensor, number] {
    const { e, md, P, streams: S } = this, D = md.hidden, SD = S * D, K = GATES[md.cell], M = md.mlp * D;
    let x = this.xa, y = this.xb;
    if (md.embed !== D) e.matmul({ c: x, a: this.emb, b: P, bOff: md.stem!, m: S, n: D, k: md.embed });
    else e.copy({ dst: x, src: this.emb, len: SD });
    for (let l = 0; l < md.layers; l++) {
      const o = md.residual[l], mlp = o.mlp, h = this.h[l];
      e.rmsNormForward({ x, w: P, wOff: o.norm1, out: this.n, rstd: this.rstd, rows: S, cols: D, eps: md.eps });
      e.matmul({ c: this.pre, a: this.n, b: P, bOff: o.w, m: S, n: K * D, k: D, bias: P, biasOff: o.bias });
      e.minScanForward({ cell: md.cell as 'mingru' | 'minlstm', proj: this.pre, act: this.act, h, steps: 1, batch: S, hidden: D });
      e.copy({ dst: h, src: h, srcOff: SD, len: SD });
      if (M === 0 || !mlp) {
        e.add({ out: y, a: x, b: h, len: SD });
      } else {
        e.add({ out: this.x1, a: x, b: h, len: SD });
        e.rmsNormForward({ x: this.x1, w: P, wOff: mlp.norm2, out: this.n, rstd: this.rstd, rows: S, cols: D, eps: md.eps });
        e.matmul({ c: this.m, a: this.n, b: P, bOff: mlp.w1, m: S, n: M, k: D, bias: P, biasOff: mlp.b1 });
        e.geluForward({ out: this.g, x: this.m, len: S * M });
        e.matmul({ c: y, a: this.g, b: P, bOff: mlp.w2, m: S, n: D, k: M, bias: P, biasOff: mlp.b2 });
        e.add({ out: y, a: y, b: this.x1, len: SD });
      }
      [x, y] = [y, x];
    }
    e.rmsNormForward({ x, w: P, wOff: md.normF!, out: this.n, rstd: this.rstd, rows: S, cols: D, eps: md.eps });
    return [this.n, 0];
  }

  async readLogits(out: Float32Array): Promise<void> {
    out.set(await this.e.read(this.logits));
  }

  release(): void {
    for (const t of this.owned) this.e.free(t);
    this.owned.length = 0;
  }

  reset(): void {
    for (const t of [...this.h, ...this.c]) this.e.zero({ out: t });
  }

  async readState(): Promise<Float32Array> {
    const out = new Float32Array(this.stateSize), n = this.streams * this.md.hidden;
    for (const [t, o] of stateSlices(this.h, this.c, n)) out.set(await this.e.read(t, 0, n), o);
    return out;
  }

  writeState(state: Float32Array): void {
    const n = this.streams * this.md.hidden;
    for (const [t, o] of stateSlices(this.h, this.c, n)) this.e.write(t, state.subarray(o, o + n));
  }
}

export function composedPlan(plan: InferPlan): ComposedInferPlan {
  if (!(plan instanceof ComposedInferPlan)) throw new TypeError('not an inference plan of this engine');
  return plan;
}
