// The whole character model: embedding → stacked LSTM layers → linear head → softmax loss.
// `Weights` owns the flat parameter/gradient/moment tensors; a `Workspace` owns the activation
// buffers for one (batch, seq) shape, so training, eval and sampling share weights but not
// buffers.
import type { Engine, Tensor } from '../engine/engine.js';
import type { ModelConfig } from './config.js';
import { paramLayout, type ParamLayout, type ParamView } from './params.js';
import { lstmBuffers, lstm_backward, lstm_carry, lstm_forward, lstm_reset, type LstmBuffers, type LstmWeights } from './lstm.js';

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

  layer(l: number): LstmWeights {
    const c = this.config;
    return {
      wx: this.view(`${c.cell}.${l}.w_x`), wh: this.view(`${c.cell}.${l}.w_h`), bias: this.view(`${c.cell}.${l}.bias`),
      input: l === 0 ? c.embed : c.hidden, hidden: c.hidden,
    };
  }
}

export class Workspace {
  readonly ids: Tensor;
  readonly targets: Tensor;
  readonly emb: Tensor;
  readonly layers: LstmBuffers[];
  readonly logits: Tensor;
  readonly losses: Tensor;
  readonly dLogits?: Tensor;
  readonly dEmb?: Tensor;
  private readonly lw: LstmWeights[];

  constructor(readonly w: Weights, readonly batch: number, readonly seq: number, readonly training: boolean) {
    const e = w.e, c = w.config, n = batch * seq;
    this.ids = e.tensor(n);
    this.targets = e.tensor(n);
    this.emb = e.tensor(n * c.embed);
    this.lw = Array.from({ length: c.layers }, (_, l) => w.layer(l));
    this.layers = this.lw.map((lw) => lstmBuffers(e, lw, batch, seq, training));
    this.logits = e.tensor(n * c.vocab);
    this.losses = e.tensor(n);
    if (training) {
      this.dLogits = e.tensor(n * c.vocab);
      this.dEmb = e.tensor(n * c.embed);
    }
  }

  /** ids and targets are time-major: element t·batch + b. */
  setInputs(ids: Float32Array, targets?: Float32Array): void {
    this.w.e.write(this.ids, ids);
    if (targets) this.w.e.write(this.targets, targets);
  }

  /** Runs embedding, layers and head; logits are left in `this.logits`. */
  forward(): void {
    const { w, batch: B, seq: T } = this, e = w.e, c = w.config;
    e.embedding(this.emb, 0, w.params, w.view('embed.weight').off, this.ids, 0, B * T, c.embed);
    let x = this.emb, xOff = 0;
    for (let l = 0; l < c.layers; l++) {
      lstm_forward(e, w.params, this.lw[l], this.layers[l], x, xOff, B, T);
      x = this.layers[l].h;
      xOff = B * c.hidden;
    }
    e.broadcastRow(this.logits, 0, w.params, w.view('head.bias').off, B * T, c.vocab);
    e.matmul({ c: this.logits, a: x, aOff: xOff, b: w.params, bOff: w.view('head.weight').off, m: B * T, n: c.vocab, k: c.hidden, accumulate: true });
  }

  /** Per-position losses into `this.losses`; with training, also dLogits of the mean loss. */
  loss(): void {
    const n = this.batch * this.seq;
    this.w.e.softmaxXent({
      logits: this.logits, targets: this.targets, losses: this.losses, rows: n, vocab: this.w.config.vocab,
      dLogits: this.training ? this.dLogits : undefined, scale: 1 / n,
    });
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
    const { w, batch: B, seq: T } = this, e = w.e, c = w.config, n = B * T;
    const G = w.grads!;
    e.zero(G);
    const top = this.layers[c.layers - 1];
    const head = w.view('head.weight');
    e.matmul({ c: G, cOff: head.off, a: top.h, aOff: B * c.hidden, b: this.dLogits!, m: c.hidden, n: c.vocab, k: n, transA: true, accumulate: true });
    e.sumRows(G, w.view('head.bias').off, this.dLogits!, 0, n, c.vocab, true);
    e.matmul({ c: top.dh!, a: this.dLogits!, b: w.params, bOff: head.off, m: n, n: c.hidden, k: c.vocab, transB: true });
    for (let l = c.layers - 1; l >= 0; l--) {
      const below = l > 0 ? this.layers[l - 1] : null;
      const x = below ? below.h : this.emb, xOff = below ? B * c.hidden : 0;
      lstm_backward(e, w.params, G, this.lw[l], this.layers[l], x, xOff, below ? below.dh! : this.dEmb!, B, T);
    }
    e.embeddingBackward(G, w.view('embed.weight').off, this.dEmb!, 0, this.ids, 0, n, c.embed, c.vocab);
  }

  /** Carries the final state of this chunk into the next one (streams: eval, sampling). */
  carryState(): void {
    for (const buf of this.layers) lstm_carry(this.w.e, buf, this.batch, this.seq, this.w.config.hidden);
  }

  /** The state the next chunk starts from, per layer, for a checkpoint. */
  async readState(): Promise<Map<string, Float32Array>> {
    const m = new Map<string, Float32Array>(), n = this.batch * this.w.config.hidden;
    for (let l = 0; l < this.layers.length; l++) {
      m.set(`state.${l}.h`, await this.w.e.read(this.layers[l].h, 0, n));
      m.set(`state.${l}.c`, await this.w.e.read(this.layers[l].c, 0, n));
    }
    return m;
  }

  /** Restores a state saved by readState; false if it does not fit this workspace. */
  writeState(m: Map<string, Float32Array>): boolean {
    const n = this.batch * this.w.config.hidden;
    for (let l = 0; l < this.layers.length; l++) {
      const h = m.get(`state.${l}.h`), c = m.get(`state.${l}.c`);
      if (!h || !c || h.length !== n || c.length !== n) return false;
      this.w.e.write(this.layers[l].h, h);
      this.w.e.write(this.layers[l].c, c);
    }
    return true;
  }

  resetState(): void {
    for (const buf of this.layers) lstm_reset(this.w.e, buf, this.batch, this.w.config.hidden);
  }
}
