// The whole character model: embedding → stacked layers of one cell → linear head → softmax loss.
// The minimal gated cells add what their residual stacks need: a stem projection to the model
// width and a final RMSNorm. `Weights` owns the flat parameter/gradient/moment tensors; a
// `Workspace` owns the activation buffers for one (batch, seq) shape, so training, eval and
// sampling share weights but not buffers.
import { GATES, type Engine, type Tensor } from '../engine/engine-api.js';
import { isMinCell, type ModelConfig } from './config.js';
import type { Rng } from '../rng.js';
import { paramLayout, type ParamLayout, type ParamView } from './params.js';
import type { InputLookup, Layer, LayerContext } from './layer.js';
import { LstmLayer } from './lstm-layer.js';
import { GruLayer } from './gru-layer.js';
import { GruNormLayer } from './gru-norm-layer.js';
import { RnnLayer } from './rnn-layer.js';
import { MinBlock, RMS_EPS } from './minblock.js';
import { drawZoneout } from './zoneout.js';
import { expectedState } from '../engine/zoneout-state.js';

export class Weights {
  readonly layout: ParamLayout;
  readonly params: Tensor;
  grads?: Tensor;
  m?: Tensor;
  v?: Tensor;

  constructor(readonly e: Engine, readonly config: ModelConfig, values: Float32Array) {
    this.layout = paramLayout(config);
    if (values.length !== this.layout.total) throw new Error(`parameter buffer has ${values.length} floats, layout needs ${this.layout.total}`);
    this.params = e.tensor(this.layout.total);
    e.write(this.params, values);
  }

  /** Frees the parameter, gradient and moment tensors; the weights must not be used again. */
  dispose(): void {
    for (const t of [this.params, this.grads, this.m, this.v]) if (t) this.e.free(t);
    this.grads = this.m = this.v = undefined;
  }

  /** Gradients and Adam moments exist only for training. */
  enableTraining(m?: Float32Array, v?: Float32Array): void {
    const e = this.e, n = this.layout.total;
    this.grads ??= e.tensor(n);
    this.m ??= e.tensor(n);
    this.v ??= e.tensor(n);
    if (m) e.write(this.m, m);
    if (v) e.write(this.v, v);
  }

  view(name: string): ParamView {
    const v = this.layout.byName.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }
}

function makeLayer(ctx: LayerContext, c: ModelConfig): Layer {
  switch (c.cell) {
    case 'lstm': return new LstmLayer(ctx);
    case 'gru': return c.gateNorm ? new GruNormLayer(ctx) : new GruLayer(ctx);
    case 'rnn': return new RnnLayer(ctx);
    default: return new MinBlock(ctx, c.cell, c.mlp ?? 0);
  }
}

export class Workspace {
  readonly ids: Tensor;
  readonly targets: Tensor;
  readonly logits: Tensor;
  readonly losses: Tensor;
  private readonly emb?: Tensor;
  private readonly lookup?: InputLookup;
  /** The first layer looks its input projection up and never reads the embedded rows. */
  private readonly skipEmbed: boolean;
  private readonly layers: Layer[];
  /**
   * Stem projection (embed → hidden) and final norm, for the residual stacks. The stem is linear
   * in the embedding row, so it is a lookup in stemTable = E·W_stem (vocab × hidden), computed once
   * per step: no n × embed × hidden products, forward or backward.
   */
  private readonly stem?: Tensor;
  private readonly stemTable?: Tensor;
  private readonly dStemTable?: Tensor;
  private readonly normF?: { out: Tensor; rstd: Tensor; dIn?: Tensor };
  private readonly dLogits?: Tensor;
  private readonly dEmb?: Tensor;
  private readonly dStem?: Tensor;
  /** Dropout on each layer's output (training only): masks and the dropped outputs. */
  private readonly drop: { mask: Tensor; out: Tensor }[] = [];
  private readonly hostMask: Float32Array;
  /** DropConnect probability on the recurrent weights (classic cells in training; else 0), and each layer's mask. */
  readonly weightDrop: number;
  private readonly recurrentMasks: Tensor[] = [];
  private readonly hostRecurrentMask: Float32Array;
  /** GRU zoneout probability (0: none), and in training each layer's mask (zoneout.ts). */
  readonly zoneout: number;
  private readonly zoneMasks: Tensor[] = [];
  private readonly hostZoneMask: Float32Array;
  /** Every tensor this workspace allocated, its layers' included: dispose() frees them. */
  private readonly owned: Tensor[] = [];

  /**
   * `weightDrop`: DropConnect on each classic layer's recurrent weights (training only).
   * `lookup: false` keeps the first layer's input products over every position (tests compare the two).
   */
  constructor(readonly w: Weights, readonly batch: number, readonly seq: number, readonly training: boolean, readonly dropout = 0, options: { lookup?: boolean; weightDrop?: number } = {}) {
    const e = w.e, c = w.config, n = batch * seq, H = c.hidden;
    const alloc = (floats: number): Tensor => {
      const t = e.tensor(floats);
      this.owned.push(t);
      return t;
    };
    const residual = isMinCell(c.cell);
    this.ids = alloc(n);
    this.targets = alloc(n);
    if (residual && c.embed !== H) {
      this.stem = alloc(n * H);
      this.stemTable = alloc(c.vocab * H);
    } else {
      this.emb = alloc(n * c.embed);
    }
    // The first layer's input projection comes from a vocab-row table (see projectInput and
    // MinBlock) when that is the smaller product: the layer's input rows depend on the id alone
    // (embedding rows, or the stem's table). Training sums the projection's gradient per id and
    // takes the products on those vocab rows too, and the layer adds its input gradient per id to
    // the embedding's (or the stem table's) gradient. A classic layer then never needs its
    // embedded rows; a residual block still adds them to its output.
    const G = GATES[c.cell];
    if (c.vocab <= n && options.lookup !== false) {
      const E = w.view('embed.weight').off;
      const rows: [Tensor, number] = this.stemTable ? [this.stemTable, 0] : [w.params, E];
      this.lookup = { ids: this.ids, vocab: c.vocab, rows, table: alloc(c.vocab * G * H) };
      if (training) {
        if (this.stemTable) this.dStemTable = alloc(c.vocab * H);
        const dRows: [Tensor, number] = this.dStemTable ? [this.dStemTable, 0] : [w.grads!, E];
        this.lookup.grad = { table: alloc(c.vocab * G * H), rows: dRows };
      }
    }
    this.skipEmbed = !!this.lookup && !residual;
    // Without a backward pass a layer's intermediate values die with its forward, so an inference
    // workspace's layers share them: a minGRU 3×216 eval workspace is 70 MB smaller.
    const temps = new Map<string, Tensor>();
    const temp = training ? undefined : (name: string, floats: number): Tensor => {
      const t = temps.get(name);
      if (t && t.size >= floats) return t;
      const fresh = alloc(floats);
      temps.set(name, fresh);
      return fresh;
    };
    this.weightDrop = training && !residual ? options.weightDrop ?? 0 : 0;
    this.zoneout = c.cell === 'gru' ? c.zoneout ?? 0 : 0;
    // Inference layers share the constants and the scratch of the expected state: one step at a time.
    const expected = this.zoneout > 0 && !training ? expectedState(e, alloc, this.zoneout, batch * H) : null;
    this.layers = Array.from({ length: c.layers }, (_, l) => {
      const wd = this.weightDrop > 0 ? { mask: alloc(H * G * H), dropped: alloc(H * G * H) } : undefined;
      if (wd) this.recurrentMasks.push(wd.mask);
      let zoneout: LayerContext['zoneout'];
      if (expected) zoneout = { expected };
      else if (this.zoneout > 0) {
        const mask = alloc(n * G * H);
        this.zoneMasks.push(mask);
        zoneout = { mask };
      }
      return makeLayer({
        e, alloc, P: w.params, G: w.grads, view: (name) => w.view(name), prefix: `${c.cell}.${l}`,
        input: l === 0 && !residual ? c.embed : H, hidden: H, batch, seq, training, lookup: l === 0 ? this.lookup : undefined, temp, weightDrop: wd, zoneout,
      }, c);
    });
    this.hostRecurrentMask = new Float32Array(this.recurrentMasks.length ? H * G * H : 0);
    this.hostZoneMask = new Float32Array(this.zoneMasks.length ? n * G * H : 0);
    if (residual) this.normF = { out: alloc(n * H), rstd: alloc(n), dIn: training ? alloc(n * H) : undefined };
    this.logits = alloc(n * c.vocab);
    this.losses = alloc(n);
    if (training) {
      this.dLogits = alloc(n * c.vocab);
      if (this.stem) this.dStemTable ??= alloc(c.vocab * H);
      // Per-position input gradients, unless the first layer adds them per id.
      if (!this.lookup) {
        if (this.stem) this.dStem = alloc(n * H);
        else this.dEmb = alloc(n * c.embed);
      }
    }
    if (training && dropout > 0) {
      for (let l = 0; l < c.layers; l++) this.drop.push({ mask: alloc(n * H), out: alloc(n * H) });
    }
    this.hostMask = new Float32Array(this.drop.length ? n * H : 0);
  }

  /**
   * Frees every tensor of the workspace. A workspace made for one phase (an estimate, an eval) must
   * be disposed when the phase ends: engine memory is not garbage-collected.
   */
  dispose(): void {
    for (const t of this.owned) this.w.e.free(t);
    this.owned.length = 0;
  }

  /** ids and targets are time-major: element t·batch + b. */
  setInputs(ids: Float32Array, targets?: Float32Array): void {
    this.w.e.write(this.ids, ids);
    if (targets) this.w.e.write(this.targets, targets);
  }

  /**
   * Draws new dropout and DropConnect masks (inverted: kept units or weights scaled by 1/(1−p)) and
   * zoneout masks, from one stream in that order; none, and no draws, without any.
   */
  drawDropout(rng: Rng): void {
    const keep = 1 - this.dropout, keepW = 1 - this.weightDrop;
    for (const d of this.drop) {
      rng.fillMask(this.hostMask, keep, 1 / keep);
      this.w.e.write(d.mask, this.hostMask);
    }
    for (const t of this.recurrentMasks) {
      rng.fillMask(this.hostRecurrentMask, keepW, 1 / keepW);
      this.w.e.write(t, this.hostRecurrentMask);
    }
    for (const t of this.zoneMasks) {
      drawZoneout(this.hostZoneMask, rng, this.zoneout, this.batch * this.seq, this.w.config.hidden);
      this.w.e.write(t, this.hostZoneMask);
    }
  }

  /** The input layer l sees: the stem (or embedding), or the layer below's output, dropped out or not. */
  private input(l: number): [Tensor, number] {
    if (l < 0) return this.stem ? [this.stem, 0] : [this.emb!, 0];
    return this.drop.length ? [this.drop[l].out, 0] : this.layers[l].out();
  }

  /** Runs embedding, layers and head; logits are left in `this.logits`. */
  forward(): void {
    for (const _ of this.forwardParts());
  }

  /**
   * forward() one layer at a time: a long training step can let the event loop turn between
   * them (src/train/loop.ts), so a signal is answered while the step runs.
   */
  *forwardParts(): Generator<void, void> {
    const { w, batch: B, seq: T } = this, e = w.e, c = w.config, n = B * T, H = c.hidden;
    const E = w.view('embed.weight').off;
    if (this.stem) {
      e.matmul({ c: this.stemTable!, a: w.params, aOff: E, b: w.params, bOff: w.view('stem.weight').off, m: c.vocab, n: H, k: c.embed });
      e.embedding({ out: this.stem, table: this.stemTable!, ids: this.ids, n, dim: H });
    } else if (!this.skipEmbed) {
      e.embedding({ out: this.emb!, table: w.params, tableOff: E, ids: this.ids, n, dim: c.embed });
    }
    for (let l = 0; l < c.layers; l++) {
      const [x, xOff] = this.input(l - 1);
      this.layers[l].forward(x, xOff);
      if (this.drop.length) {
        const [y, yOff] = this.layers[l].out();
        e.mul({ out: this.drop[l].out, a: y, aOff: yOff, b: this.drop[l].mask, len: n * H });
      }
      yield;
    }
    let [top, topOff] = this.input(c.layers - 1);
    if (this.normF) {
      e.rmsNormForward({ x: top, xOff: topOff, w: w.params, wOff: w.view('norm_f').off, out: this.normF.out, rstd: this.normF.rstd, rows: n, cols: H, eps: RMS_EPS });
      [top, topOff] = [this.normF.out, 0];
    }
    e.matmul({
      c: this.logits, a: top, aOff: topOff, b: w.params, bOff: w.view('head.weight').off, m: n, n: c.vocab, k: H,
      bias: w.params, biasOff: w.view('head.bias').off,
    });
  }

  /** Per-position losses into `this.losses`; with training, also dLogits of the mean loss. */
  loss(): void {
    const n = this.batch * this.seq;
    this.w.e.softmaxXent({
      logits: this.logits, targets: this.targets, losses: this.losses, rows: n, vocab: this.w.config.vocab,
      dLogits: this.training ? this.dLogits : undefined, scale: 1 / n,
    });
  }

  /** Sum of the per-position losses, in nats, left on the engine at out[off] (read when shown). */
  lossSumInto(out: Tensor, off: number): void {
    this.w.e.sumRows({ out, outOff: off, x: this.losses, rows: this.batch * this.seq, cols: 1 });
  }

  /** Sum of the per-position losses, in nats. */
  async lossSum(): Promise<number> {
    const l = await this.w.e.read(this.losses);
    let s = 0;
    for (let i = 0; i < l.length; i++) s += l[i];
    return s;
  }

  /** Gradients of the mean loss into w.grads (zeroed first). Needs forward() and loss(). */
  backward(): void {
    for (const _ of this.backwardParts());
  }

  /** backward() one layer at a time, as forwardParts. */
  *backwardParts(): Generator<void, void> {
    const { w, batch: B, seq: T } = this, e = w.e, c = w.config, n = B * T, H = c.hidden;
    const G = w.grads!, head = w.view('head.weight');
    e.zero({ out: G });
    const [top, topOff] = this.input(c.layers - 1);
    const headIn: [Tensor, number] = this.normF ? [this.normF.out, 0] : [top, topOff];
    e.matmul({ c: G, cOff: head.off, a: headIn[0], aOff: headIn[1], b: this.dLogits!, m: H, n: c.vocab, k: n, transA: true, accumulate: true });
    e.sumRows({ out: G, outOff: w.view('head.bias').off, x: this.dLogits!, rows: n, cols: c.vocab, accumulate: true });
    const dTop = this.layers[c.layers - 1].dOut!;
    if (this.normF) {
      e.matmul({ c: this.normF.dIn!, a: this.dLogits!, b: w.params, bOff: head.off, m: n, n: H, k: c.vocab, transB: true });
      e.zero({ out: dTop });
      const nf = w.view('norm_f').off;
      e.rmsNormBackward({ x: top, xOff: topOff, w: w.params, wOff: nf, rstd: this.normF.rstd, dOut: this.normF.dIn!, dx: dTop, dw: G, dwOff: nf, rows: n, cols: H });
    } else {
      e.matmul({ c: dTop, a: this.dLogits!, b: w.params, bOff: head.off, m: n, n: H, k: c.vocab, transB: true });
    }
    // The first layer's input gradient: per position into dStem or dEmb, or (with a lookup) added
    // per id straight into dStemTable or the embedding's gradient.
    if (this.dStemTable) e.zero({ out: this.dStemTable });
    for (let l = c.layers - 1; l >= 0; l--) {
      const layer = this.layers[l];
      if (this.drop.length) e.mul({ out: layer.dOut!, a: layer.dOut!, b: this.drop[l].mask, len: n * H });
      const [x, xOff] = this.input(l - 1);
      const dx = l > 0 ? this.layers[l - 1].dOut! : this.dStem ?? this.dEmb ?? null;
      layer.backward(x, xOff, dx);
      yield;
    }
    const E = w.view('embed.weight').off;
    if (this.stem) {
      // Per vocabulary row: dTable = Σ dStem over that character's positions, then the table's
      // two factors: dW_stem += Eᵀ·dTable, dE += dTable·W_stemᵀ.
      const s = w.view('stem.weight').off, dT = this.dStemTable!;
      if (this.dStem) e.embeddingBackward({ dTable: dT, dOut: this.dStem, ids: this.ids, n, dim: H, vocab: c.vocab });
      e.matmul({ c: G, cOff: s, a: w.params, aOff: E, b: dT, m: c.embed, n: H, k: c.vocab, transA: true, accumulate: true });
      e.matmul({ c: G, cOff: E, a: dT, b: w.params, bOff: s, m: c.vocab, n: c.embed, k: H, transB: true, accumulate: true });
    } else if (this.dEmb) {
      e.embeddingBackward({ dTable: G, dTableOff: E, dOut: this.dEmb, ids: this.ids, n, dim: c.embed, vocab: c.vocab });
    }
  }

  /** Carries the final state of this chunk into the next one (streams: eval, sampling). */
  carryState(): void {
    for (const layer of this.layers) layer.carry();
  }

  resetState(): void {
    for (const layer of this.layers) layer.reset();
  }

  /** Zeroes the state the next chunk starts from for these rows only: each starts a new stream there. */
  resetRows(rows: ArrayLike<number>): void {
    const H = this.w.config.hidden;
    for (const layer of this.layers) {
      for (const [, t] of layer.state()) for (let i = 0; i < rows.length; i++) this.w.e.zero({ out: t, outOff: rows[i] * H, len: H });
    }
  }

  /** The state the next chunk starts from, per layer, for a checkpoint. */
  async readState(): Promise<Map<string, Float32Array>> {
    const m = new Map<string, Float32Array>(), n = this.batch * this.w.config.hidden;
    for (let l = 0; l < this.layers.length; l++) {
      for (const [name, t] of this.layers[l].state()) m.set(`state.${l}.${name}`, await this.w.e.read(t, 0, n));
    }
    return m;
  }

  /** Restores a state saved by readState; false if it does not fit this workspace. */
  writeState(m: Map<string, Float32Array>): boolean {
    const n = this.batch * this.w.config.hidden;
    for (let l = 0; l < this.layers.length; l++) {
      for (const [name, t] of this.layers[l].state()) {
        const v = m.get(`state.${l}.${name}`);
        if (!v || v.length !== n) return false;
        this.w.e.write(t, v);
      }
    }
    return true;
  }
}
