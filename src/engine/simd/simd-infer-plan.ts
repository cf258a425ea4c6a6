// The simd engine's inference plan: packs the weights once into the layout assembly/infer-step.ts
// reads, writes the plan's descriptor, and runs one command per character.
//
// Descriptor (i32 words; addresses are byte addresses in the engine's memory):
//   0 cell (0 lstm, 1 gru, 2 rnn, 3 mingru, 4 minlstm)  1 streams  2 vocab  3 embed  4 hidden
//   5 layers  6 MLP width (0: none)  7 gates  8-10 hidden, MLP width and vocab padded to 32
//   11 embedding table  12 stem panels (0: none)  13 final norm gains  14 head panels  15 head bias
//   16 logits (streams × padded vocab)  17 ids (i32 per stream)  18-20 residual streams x, y, x1
//   21 MLP activations  22 per-thread scratch  23 its stride  24 which h buffer is current
//   25 classic cells: the first layer's input table (vocab rows of E·W_x + b in panel order; its
//      w_x is then not packed)
//   26-27 gru: zoneout's p and 1 − p as f32 bits (0 and 1 without it)  28 RMSNorm's epsilon (f32 bits)
//   29 a normalised GRU's partial sums of squares (streams × groups of 8 units × [x, h])
// then 16 words per layer:
//   lstm/gru/rnn: 0 w_x  1 w_h  2 bias (gru: b_x)  3 gru b_h  4-5 h ping-pong  6 lstm c
//                 7 pre-activations  8 gru recurrent pre-activations  9 input width
//                 10-11 a normalised GRU's gains of x·W_x and h·W_h (0: plain)
//   mingru/minlstm: 0 norm1  1 w  2 bias  3 norm2  4 mlp.w1  5 mlp.b1  6 mlp.w2  7 mlp.b2
//                 8 scan state h  9 projections
import { GATES, type Engine, type InferModel, type InferPlan, type Tensor } from '../engine-api.js';
import { stateSize } from '../infer-plan-check.js';
import { inputTable } from '../infer-table.js';
import type { Ctx } from './context.js';
import { InferStepArg, Op } from './op-table.js';

const CELL_CODE = { lstm: 0, gru: 1, rnn: 2, mingru: 3, minlstm: 4 } as const;
const HEADER = 32, PER_LAYER = 16;
/** Descriptor words the kernel and this file share. */
const W = { logits: 16, ids: 17, par: 24 } as const;
/** Weight floats × streams below which a step stays on one thread untried: too little work to win back a barrier per layer. */
const PAR_WEIGHTS = 1 << 16;
/**
 * Whether splitting pays depends on the model, the cores and what else the machine runs (on a
 * loaded machine a barrier waits for a descheduled thread and a split step is several times
 * slower), so a plan measures: BLOCKS blocks of BLOCK steps, serial and split alternately, then
 * runs the faster way until the next trial RETRY steps later. Results do not depend on the
 * choice. Blocks, not single steps, and a block's first step untimed: after a serial step the
 * worker has given up spinning and a split step right after it times the worker's wake-up
 * (measured, LSTM 2×256: alternate split steps 83 µs, serial 73, steady split 54).
 */
const BLOCK = 8, BLOCKS = 4, RETRY = 8192;
/**
 * Steps run both ways, untimed, before the first trial, and the first trials come sooner than
 * RETRY: each thread's WebAssembly starts in V8's baseline compiler and is recompiled optimised
 * only after some work, and until then a split step times the compilers, not the split
 * (measured, LSTM 2×256: a first trial after 64 warm-up steps found split steps at 160 µs and
 * serial ones at 67; the trials after it, 34 and 66).
 */
const WARM = 64, FIRST_RETRY = 256;
const TRIAL_STEPS = BLOCK * BLOCKS;

/** Units come in groups of 8 (one panel per gate) and groups in blocks of 4, the kernel's step. */
const pad = (n: number): number => Math.ceil(n / 32) * 32;

/**
 * W [k × G·n] (row-major, gate blocks of n columns) as panels of 8 columns: panel q = ug·G + g
 * holds gate g of columns [8ug, 8ug+8); panels 4c..4c+3 are stored interleaved, k rows of 32.
 */
function packPanels(P: Float32Array, off: number, k: number, n: number, G: number): Float32Array {
  const groups = pad(n) / 8, out = new Float32Array(groups * G * k * 8);
  for (let ug = 0; ug < groups; ug++) {
    for (let g = 0; g < G; g++) {
      const q = ug * G + g, base = (q >> 2) * k * 32 + (q & 3) * 8;
      for (let p = 0; p < k; p++) {
        for (let lane = 0; lane < 8; lane++) {
          const u = ug * 8 + lane;
          if (u < n) out[base + p * 32 + lane] = P[off + p * G * n + g * n + u];
        }
      }
    }
  }
  return out;
}

/** A bias (or norm gain) of G blocks of n in the panel order, zero in the pads. */
function packVector(P: Float32Array, off: number, n: number, G: number): Float32Array {
  const groups = pad(n) / 8, out = new Float32Array(groups * G * 8);
  for (let ug = 0; ug < groups; ug++) {
    for (let g = 0; g < G; g++) {
      for (let lane = 0; lane < 8; lane++) {
        const u = ug * 8 + lane;
        if (u < n) out[(ug * G + g) * 8 + lane] = P[off + g * n + u];
      }
    }
  }
  return out;
}

export class SimdInferPlan implements InferPlan {
  readonly vocab: number;
  readonly stateSize: number;
  private par = 0;
  /** Steps since the last trial began, and the trial's timings (serial, split). */
  private steps = 0;
  private warm = 0;
  /** Steps from one trial to the next: short at first, doubling up to RETRY. */
  private retry = FIRST_RETRY;
  private split = false;
  private readonly times: [number[], number[]] = [[], []];
  private buffer: SharedArrayBuffer | null = null;
  private words!: Int32Array; private idWords!: Int32Array; private logitsView!: Float32Array;

  constructor(readonly cx: Ctx, private readonly md: InferModel, readonly streams: number,
    private readonly desc: number, private readonly hp: number, private readonly vp: number,
    /** Per layer, the state buffers: [h0, h1, c] (classic) or [h] (residual); byte addresses. */
    private readonly state: number[][], private readonly parallel: boolean,
    /** Frees everything prepareInfer allocated for this plan. */
    readonly release: () => void) {
    this.vocab = md.vocab;
    this.stateSize = stateSize(md, streams);
  }

  private get classic(): boolean {
    return CELL_CODE[this.md.cell] <= 2;
  }

  /** Views over the descriptor and logits, renewed when memory growth replaces the buffer. */
  private views(): void {
    const buf = this.cx.arena.memory.buffer;
    if (buf === this.buffer) return;
    this.buffer = buf;
    this.words = new Int32Array(buf, this.desc, HEADER);
    this.logitsView = new Float32Array(buf, this.words[W.logits], this.streams * this.vp);
    this.idWords = new Int32Array(buf, this.words[W.ids], this.streams);
  }

  step(ids: ArrayLike<number>, logits: boolean): void {
    this.views();
    for (let s = 0; s < this.streams; s++) this.idWords[s] = ids[s];
    this.words[W.par] = this.par;
    const a = this.cx.args();
    a[InferStepArg.Plan] = this.desc; a[InferStepArg.Logits] = logits ? 1 : 0;
    if (!this.parallel) {
      this.cx.exec(Op.InferStep, 0, 1);
    } else if (this.warm < WARM) {
      this.cx.exec(Op.InferStep, this.warm++ & 1, 1);
    } else if (this.steps < TRIAL_STEPS) {
      const split = Math.floor(this.steps / BLOCK) % 2 === 1, t = performance.now();
      this.cx.exec(Op.InferStep, split ? 1 : 0, 1);
      if (this.steps % BLOCK !== 0) this.times[split ? 1 : 0].push(performance.now() - t);
      if (++this.steps === TRIAL_STEPS) {
        const med = (xs: number[]) => xs.sort((x, y) => x - y)[xs.length >> 1];
        this.split = med(this.times[1]) < med(this.times[0]);
        this.times[0].length = this.times[1].length = 0;
      }
    } else {
      this.cx.exec(Op.InferStep, this.split ? 1 : 0, 1);
      if (++this.steps === this.retry) {
        this.steps = 0;
        this.retry = Math.min(RETRY, 2 * this.retry);
      }
    }
    if (this.classic) this.par = 1 - this.par;
  }

  /** Whether steps currently run on every thread (after the first trial). */
  get splitting(): boolean {
    return this.parallel && this.split;
  }

  readLogits(out: Float32Array): void {
    this.views();
    const V = this.vocab;
    for (let s = 0; s < this.streams; s++) out.set(this.logitsView.subarray(s * this.vp, s * this.vp + V), s * V);
  }

  /** The floats of layer l's current h (and c), stream-major with the padded stride. */
  private slots(l: number): number[] {
    const st = this.state[l];
    if (!this.classic) return [st[0]];
    return this.md.cell === 'lstm' ? [st[this.par], st[2]] : [st[this.par]];
  }

  reset(): void {
    this.cx.args();
    const n = this.streams * this.hp;
    for (const st of this.state) for (const p of st) this.cx.arena.f32(p, n).fill(0);
    this.par = 0;
  }

  readState(): Float32Array {
    this.cx.args();
    const { streams: S, hp } = this, H = this.md.hidden, out = new Float32Array(this.stateSize);
    let o = 0;
    for (let l = 0; l < this.md.layers; l++) {
      for (const p of this.slots(l)) {
        const v = this.cx.arena.f32(p, S * hp);
        for (let s = 0; s < S; s++, o += H) out.set(v.subarray(s * hp, s * hp + H), o);
      }
    }
    return out;
  }

  writeState(state: Float32Array): void {
    this.cx.args();
    const { streams: S, hp } = this, H = this.md.hidden;
    let o = 0;
    for (let l = 0; l < this.md.layers; l++) {
      for (const p of this.slots(l)) {
        const v = this.cx.arena.f32(p, S * hp);
        for (let s = 0; s < S; s++, o += H) v.set(state.subarray(o, o + H), s * hp);
      }
    }
  }
}

/**
 * The first classic layer's x·W_x + b for every vocabulary row, by the engine's own product (so
 * every entry has the bits the training forward gives it), each row then in panel order.
 */
function packedInputTable(cx: Ctx, engine: Engine, md: InferModel, G: number, Hp: number): [number, Tensor] {
  const { hidden: H, vocab: V } = md, row = G * Hp;
  // Room for the padded rows; the product fills the first V·G·H floats, then they are repacked.
  const t = engine.tensor(V * row);
  inputTable(engine, md, md.params, t);
  const ptr = cx.ptr(t, 0), rows = cx.arena.f32(ptr, V * G * H).slice(), out = cx.arena.f32(ptr, V * row);
  for (let v = 0; v < V; v++) out.set(packVector(rows, v * G * H, H, G), v * row);
  return [ptr, t];
}

export function prepareInfer(cx: Ctx, engine: Engine, md: InferModel, S: number): SimdInferPlan {
  const P = cx.arena.f32(cx.ptr(md.params, 0), md.params.size).slice();
  const { cell, hidden: H, embed: E, vocab: V, layers: L } = md;
  const G = GATES[cell], classic = CELL_CODE[cell] <= 2, Hp = pad(H), Vp = pad(V);
  const M = classic ? 0 : md.mlp * H, Mp = pad(M);
  const threads = cx.pool.threads;
  const data: [number, Float32Array][] = [];
  let weights = 0;
  // Everything the plan holds, so release() can hand it back.
  const blocks: [number, number][] = [];
  const alloc = (bytes: number): number => {
    const p = cx.arena.alloc(bytes);
    blocks.push([p, bytes]);
    return p;
  };
  const put = (a: Float32Array): number => {
    const p = alloc(a.byteLength);
    data.push([p, a]);
    return p;
  };
  const panels = (off: number, k: number, n: number, g: number): number => {
    weights += k * g * n;
    return put(packPanels(P, off, k, n, g));
  };
  const vector = (off: number, n: number, g: number): number => put(packVector(P, off, n, g));
  const zeros = (floats: number): number => alloc(Math.max(floats, 1) * 4);

  const d = new Int32Array(HEADER + PER_LAYER * L);
  let table: Tensor | null = null;
  if (classic) [d[25], table] = packedInputTable(cx, engine, md, G, Hp);
  d[0] = CELL_CODE[cell]; d[1] = S; d[2] = V; d[3] = E; d[4] = H; d[5] = L; d[6] = M; d[7] = G;
  d[8] = Hp; d[9] = Mp; d[10] = Vp;
  // 1 − p rounded once, as the constants of zoneout-state.ts are.
  [d[26], d[27]] = new Int32Array(Float32Array.of(md.zoneout ?? 0, 1 - (md.zoneout ?? 0)).buffer);
  d[11] = put(P.slice(md.embedding, md.embedding + V * E));
  if (!classic && md.stem !== null) d[12] = panels(md.stem, E, H, 1);
  if (!classic) d[13] = vector(md.normF!, H, 1);
  d[14] = panels(md.head.w, H, V, 1);
  d[15] = vector(md.head.b, V, 1);
  d[28] = new Int32Array(Float32Array.of(md.eps).buffer)[0];
  d[16] = zeros(S * Vp);
  d[17] = zeros(S);
  d[18] = zeros(S * Hp); d[19] = zeros(S * Hp); d[20] = zeros(S * Hp); d[21] = zeros(S * Mp);
  // Per-thread scratch, a cache line apart: the normed inputs each thread computes for itself and
  // the streams' embedding rows.
  const local = Math.ceil((S * (Hp + E) * 4) / 64) * 64;
  d[22] = alloc(local * threads); d[23] = local;
  const state: number[][] = [];
  for (let l = 0; l < L; l++) {
    const r = HEADER + PER_LAYER * l;
    if (classic) {
      const k = l === 0 ? E : H, o = md.classic[l];
      if (l > 0) d[r] = panels(o.wx, k, H, G);
      d[r + 1] = panels(o.wh, H, H, G);
      d[r + 2] = vector(o.bx, H, G);
      if (o.bh !== null) d[r + 3] = vector(o.bh, H, G);
      if (o.normX !== null && o.normH !== null) {
        d[r + 10] = vector(o.normX, H, G); d[r + 11] = vector(o.normH, H, G);
        if (!d[29]) d[29] = zeros(S * (Hp / 8) * 2);
      }
      d[r + 4] = zeros(S * Hp); d[r + 5] = zeros(S * Hp);
      if (cell === 'lstm') d[r + 6] = zeros(S * Hp);
      d[r + 7] = zeros(S * G * Hp);
      if (cell === 'gru') d[r + 8] = zeros(S * G * Hp);
      d[r + 9] = k;
      state.push(cell === 'lstm' ? [d[r + 4], d[r + 5], d[r + 6]] : [d[r + 4], d[r + 5]]);
    } else {
      const o = md.residual[l], f = o.mlp;
      d[r] = vector(o.norm1, H, 1);
      d[r + 1] = panels(o.w, H, H, G);
      d[r + 2] = vector(o.bias, H, G);
      if (M && f) {
        d[r + 3] = vector(f.norm2, H, 1);
        d[r + 4] = panels(f.w1, H, M, 1);
        d[r + 5] = vector(f.b1, M, 1);
        d[r + 6] = panels(f.w2, M, H, 1);
        d[r + 7] = vector(f.b2, H, 1);
      }
      d[r + 8] = zeros(S * Hp);
      d[r + 9] = zeros(S * G * Hp);
      state.push([d[r + 8]]);
    }
  }
  const desc = alloc(d.byteLength);
  // Every allocation is done: views taken now stay valid.
  for (const [p, a] of data) cx.arena.f32(p, a.length).set(a);
  new Int32Array(cx.arena.memory.buffer, desc, d.length).set(d);
  const release = () => {
    for (const [p, bytes] of blocks) cx.arena.free(p, bytes);
    if (table) engine.free(table);
  };
  return new SimdInferPlan(cx, md, S, desc, Hp, Vp, state, threads > 1 && weights * S >= PAR_WEIGHTS, release);
}
