// The inference step in plain loops: the readable statement of what every engine's fused step
// computes, in the same order as the training forward of src/model/*.ts (bias, then the input
// product, then the recurrent product; the residual blocks as x + cell(norm(x)), then the MLP).
import { GATES, type InferModel, type InferPlan } from '../engine-api.js';
import { stateSize, stateSlices } from '../infer-plan-check.js';
import { gelu } from './js-cells.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const g = (x: number): number => (x >= 0 ? x + 0.5 : sigmoid(x));

/** out[j] (+)= Σ_p x[p]·W[p·n + j], the sum taken first as the js matmul does. */
function product(out: Float32Array, x: Float32Array, xOff: number, k: number, W: Float32Array, wOff: number, n: number, acc: boolean): void {
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += x[xOff + p] * W[wOff + p * n + j];
    out[j] = acc ? out[j] + s : s;
  }
}

function rmsNorm(out: Float32Array, x: Float32Array, xOff: number, w: Float32Array, wOff: number, n: number, eps: number): void {
  let ss = 0;
  for (let j = 0; j < n; j++) ss += x[xOff + j] ** 2;
  const rstd = 1 / Math.sqrt(ss / n + eps);
  for (let j = 0; j < n; j++) out[j] = x[xOff + j] * rstd * w[wOff + j];
}

export class JsInferPlan implements InferPlan {
  readonly vocab: number;
  readonly stateSize: number;
  private readonly P: Float32Array;
  /** Per layer, streams × hidden. */
  readonly h: Float32Array[];
  readonly c: Float32Array[];
  readonly logits: Float32Array;
  private readonly pre: Float32Array; private readonly preH: Float32Array;
  private readonly x: Float32Array; private readonly x1: Float32Array;
  private readonly n: Float32Array; private readonly m: Float32Array; private readonly y: Float32Array;

  constructor(private readonly md: InferModel, params: Float32Array, readonly streams: number) {
    const H = md.hidden, S = streams, wide = Math.max(GATES[md.cell], md.mlp) * H;
    this.vocab = md.vocab;
    this.stateSize = stateSize(md, streams);
    this.P = params.slice();
    this.h = Array.from({ length: md.layers }, () => new Float32Array(S * H));
    this.c = Array.from({ length: md.cell === 'lstm' ? md.layers : 0 }, () => new Float32Array(S * H));
    this.logits = new Float32Array(S * md.vocab);
    this.pre = new Float32Array(wide); this.preH = new Float32Array(wide);
    const X = Math.max(H, md.embed);
    this.x = new Float32Array(X); this.x1 = new Float32Array(X); this.n = new Float32Array(X);
    this.m = new Float32Array(wide); this.y = new Float32Array(X);
  }

  step(ids: ArrayLike<number>, logits: boolean): void {
    for (let s = 0; s < this.streams; s++) {
      const top = this.md.cell === 'lstm' || this.md.cell === 'gru' || this.md.cell === 'rnn' ? this.classic(s, ids[s]) : this.residual(s, ids[s]);
      if (!logits) continue;
      const { hidden: H, vocab: V } = this.md, out = this.logits.subarray(s * V, (s + 1) * V);
      out.set(this.P.subarray(this.md.head.b, this.md.head.b + V));
      product(out, top, 0, H, this.P, this.md.head.w, V, true);
    }
  }

  /** The LSTM, GRU and Elman stacks; returns the top layer's h of stream s. */
  private classic(s: number, id: number): Float32Array {
    const { P, pre, preH } = this, { cell, hidden: H, embed: E, layers, embedding } = this.md;
    let x = P.subarray(embedding + id * E, embedding + (id + 1) * E);
    for (let l = 0; l < layers; l++) {
      const o = this.md.classic[l], h = this.h[l].subarray(s * H, (s + 1) * H), k = l === 0 ? E : H;
      const G = GATES[cell] * H;
      if (o.normX !== null && o.normH !== null) {
        // rms(x·W)·g + b for each of the two products (src/model/gru-norm-layer.ts).
        this.normed(pre, x, k, o.wx, o.normX, o.bx);
        this.normed(preH, h, H, o.wh, o.normH, o.bh!);
      } else {
        pre.set(P.subarray(o.bx, o.bx + G));
        product(pre, x, 0, k, P, o.wx, G, true);
        if (cell === 'gru') {
          preH.set(P.subarray(o.bh!, o.bh! + G));
          product(preH, h, 0, H, P, o.wh, G, true);
        }
      }
      if (cell === 'gru') {
        const zo = this.md.zoneout ?? 0;
        for (let j = 0; j < H; j++) {
          const r = sigmoid(pre[j] + preH[j]), z = sigmoid(pre[H + j] + preH[H + j]);
          const n = Math.tanh(pre[2 * H + j] + r * preH[2 * H + j]);
          const next = (1 - z) * n + z * h[j];
          // Zoneout's expected state (src/model/zoneout.ts).
          h[j] = zo > 0 ? (1 - zo) * next + zo * h[j] : next;
        }
      } else {
        product(pre, h, 0, H, P, o.wh, G, true);
        if (cell === 'rnn') {
          for (let j = 0; j < H; j++) h[j] = Math.tanh(pre[j]);
        } else {
          const c = this.c[l].subarray(s * H, (s + 1) * H);
          for (let j = 0; j < H; j++) {
            const i = sigmoid(pre[j]), f = sigmoid(pre[H + j]), gg = Math.tanh(pre[2 * H + j]), o = sigmoid(pre[3 * H + j]);
            c[j] = f * c[j] + i * gg;
            h[j] = o * Math.tanh(c[j]);
          }
        }
      }
      x = h;
    }
    return x;
  }

  /** out = rms(x·W)·g + b over the 3H gates, from x of width k. */
  private normed(out: Float32Array, x: Float32Array, k: number, w: number, gain: number, bias: number): void {
    const { P } = this, G = 3 * this.md.hidden;
    product(out, x, 0, k, P, w, G, false);
    rmsNorm(out, out, 0, P, gain, G, this.md.eps);
    for (let j = 0; j < G; j++) out[j] += P[bias + j];
  }

  /** The minGRU/minLSTM residual stack; returns the final-normed stream of stream s. */
  private residual(s: number, id: number): Float32Array {
    const { P, pre, x, x1, n, m, y } = this, { cell, hidden: D, embed: E, layers, mlp, eps } = this.md;
    const emb = this.md.embedding + id * E;
    if (E !== D) product(x, P, emb, E, P, this.md.stem!, D, false);
    else x.set(P.subarray(emb, emb + E));
    const K = GATES[cell], M = mlp * D;
    for (let l = 0; l < layers; l++) {
      const o = this.md.residual[l], h = this.h[l].subarray(s * D, (s + 1) * D);
      rmsNorm(n, x, 0, P, o.norm1, D, eps);
      pre.set(P.subarray(o.bias, o.bias + K * D));
      product(pre, n, 0, D, P, o.w, K * D, true);
      for (let j = 0; j < D; j++) {
        let a: number, coef: number;
        if (cell === 'mingru') {
          const z = sigmoid(pre[j]);
          a = 1 - z; coef = z;
        } else {
          const f = sigmoid(pre[j]), i = sigmoid(pre[D + j]);
          a = f / (f + i); coef = i / (f + i);
        }
        h[j] = a * h[j] + coef * g(pre[(K - 1) * D + j]);
        x1[j] = x[j] + h[j];
      }
      const f = o.mlp;
      if (M === 0 || !f) { x.set(x1.subarray(0, D)); continue; }
      rmsNorm(n, x1, 0, P, f.norm2, D, eps);
      m.set(P.subarray(f.b1, f.b1 + M));
      product(m, n, 0, D, P, f.w1, M, true);
      for (let j = 0; j < M; j++) m[j] = gelu(m[j]);
      y.set(P.subarray(f.b2, f.b2 + D));
      product(y, m, 0, M, P, f.w2, D, true);
      for (let j = 0; j < D; j++) x[j] = y[j] + x1[j];
    }
    rmsNorm(n, x, 0, P, this.md.normF!, D, eps);
    return n;
  }

  readLogits(out: Float32Array): void {
    out.set(this.logits);
  }

  reset(): void {
    for (const t of [...this.h, ...this.c]) t.fill(0);
  }

  readState(): Float32Array {
    const out = new Float32Array(this.stateSize), n = this.streams * this.md.hidden;
    for (const [t, o] of stateSlices(this.h, this.c, n)) out.set(t, o);
    return out;
  }

  writeState(state: Float32Array): void {
    const n = this.streams * this.md.hidden;
    for (const [t, o] of stateSlices(this.h, this.c, n)) t.set(state.subarray(o, o + n));
  }
}
