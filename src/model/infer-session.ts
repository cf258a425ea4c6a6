// An inference session: S independent streams stepped one character at a time through the
// engine's fused step, with O(1) state however long the text. No training buffers: the engine
// packs the weights once and keeps only the recurrent state and the last logits.
import type { InferModel, InferPlan } from '../engine/engine-api.js';
import type { Weights } from './model.js';

/** The plain description of w's model that engines pack from. */
export function inferModel(w: Weights): InferModel {
  const c = w.config;
  return {
    cell: c.cell, vocab: c.vocab, embed: c.embed, hidden: c.hidden, layers: c.layers, mlp: c.mlp ?? 0, zoneout: c.zoneout ?? 0,
    params: w.params, offset: (name) => w.view(name).off,
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
