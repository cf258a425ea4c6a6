// An inference session: S independent streams stepped one character at a time through the
// engine's fused step, with O(1) state however long the text. No training buffers: the engine
// packs the weights once and keeps only the recurrent state and the last logits.
import type { InferModel, InferPlan } from '../engine/engine-api.js';
import { isMinCell } from './config.js';
import { RMS_EPS } from './minblock.js';
import type { Weights } from './model.js';

/** The plain description of w's model that engines pack from: shapes, weight offsets, constants. */
export function inferModel(w: Weights): InferModel {
  const c = w.config, off = (name: string) => w.view(name).off, residual = isMinCell(c.cell);
  const layers = Array.from({ length: c.layers }, (_, l) => `${c.cell}.${l}`);
  return {
    cell: c.cell, vocab: c.vocab, embed: c.embed, hidden: c.hidden, layers: c.layers, mlp: c.mlp ?? 0, zoneout: c.zoneout ?? 0,
    params: w.params, eps: RMS_EPS, embedding: off('embed.weight'), head: { w: off('head.weight'), b: off('head.bias') },
    stem: residual && c.embed !== c.hidden ? off('stem.weight') : null,
    normF: residual ? off('norm_f') : null,
    classic: residual ? [] : layers.map((p) => ({
      wx: off(`${p}.w_x`), wh: off(`${p}.w_h`), bx: off(c.cell === 'gru' ? `${p}.b_x` : `${p}.bias`), bh: c.cell === 'gru' ? off(`${p}.b_h`) : null,
      normX: c.gateNorm ? off(`${p}.norm_x`) : null, normH: c.gateNorm ? off(`${p}.norm_h`) : null,
    })),
    residual: !residual ? [] : layers.map((p) => ({
      norm1: off(`${p}.norm1`), w: off(`${p}.w`), bias: off(`${p}.bias`),
      mlp: c.mlp ? { norm2: off(`${p}.norm2`), w1: off(`${p}.mlp.w1`), b1: off(`${p}.mlp.b1`), w2: off(`${p}.mlp.w2`), b2: off(`${p}.mlp.b2`) } : null,
    })),
  };
}

export class InferSession {
  private readonly plan: InferPlan;
  /** streams × vocab, overwritten by every step(). */
  private readonly logits: Float32Array;

  /** Snapshots w's current values: later training steps do not reach this session. */
  constructor(readonly w: Weights, readonly streams = 1) {
    this.plan = w.e.inferPrepare(inferModel(w), streams);
    this.logits = new Float32Array(streams * w.config.vocab);
  }

  /** Floats in readState()'s vector: per layer, h (streams × hidden), then c for the LSTM. */
  get stateSize(): number {
    return this.plan.stateSize;
  }

  reset(): void {
    this.w.e.inferReset(this.plan);
  }

  /** Advances each stream by its id (one per stream) without computing logits. */
  feed(ids: ArrayLike<number>): void {
    this.w.e.inferStep(this.plan, ids, false);
  }

  /**
   * Advances each stream by its id and resolves with the logits of the next character,
   * streams × vocab. The array is the session's own and is overwritten by the next step.
   */
  async step(ids: ArrayLike<number>): Promise<Float32Array> {
    this.w.e.inferStep(this.plan, ids, true);
    await this.w.e.inferLogits(this.plan, this.logits);
    return this.logits;
  }

  /** Frees the engine's plan; the session must not be used again. */
  dispose(): void {
    this.w.e.inferRelease(this.plan);
  }

  readState(): Promise<Float32Array> {
    return this.w.e.inferReadState(this.plan);
  }

  writeState(state: Float32Array): void {
    this.w.e.inferWriteState(this.plan, state);
  }
}
