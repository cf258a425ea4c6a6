// What the model needs from one stacked layer, whatever its cell. Every layer maps a chunk of
// T·B input rows (time-major) to T·B output rows of width `hidden`, carries a recurrent state from
// chunk to chunk, and in training mode back-propagates a gradient w.r.t. its output (`dOut`,
// filled by whatever sits above it) into its weights and its input.
import type { Engine, Tensor } from '../engine/engine.js';
import type { ParamView } from './params.js';

export interface LayerContext {
  e: Engine;
  /** Parameters and gradients: the model's flat buffers. */
  P: Tensor;
  G?: Tensor;
  view: (name: string) => ParamView;
  /** Parameter name prefix of this layer, e.g. "gru.1". */
  prefix: string;
  input: number;
  hidden: number;
  batch: number;
  seq: number;
  training: boolean;
  /** The first layer of an inference workspace: its input projection is looked up by id (projectInput). */
  lookup?: InputLookup;
  /**
   * Inference workspaces: a buffer of at least `floats` shared by every layer under `name`, for
   * values that die within one layer's forward (with no backward to keep them for).
   */
  temp?: (name: string, floats: number) => Tensor;
}

/** What a first layer needs to look its input projection up: the ids, its input rows per id, and room for the table. */
export interface InputLookup {
  ids: Tensor;
  vocab: number;
  /** vocab × input: the row each id feeds the layer (the embedding table, or the stem's table). */
  rows: [Tensor, number];
  /** vocab × n: each row the layer's input projection of the matching row of `rows`. */
  table: Tensor;
}

/**
 * The input projection of a chunk into `out` (T·B × n): x·W_x + b, one product for all timesteps.
 * With ctx.lookup the input rows are embedding rows, so the projection is a lookup in a table of
 * E·W_x + b (vocab rows, computed on every call, so it always follows the weights): each entry is
 * the same product with the same bias in the same order, the same bits, for vocab rows instead of
 * T·B. Training needs the embedded rows for the weight gradient and keeps the product.
 */
export function projectInput(ctx: LayerContext, x: Tensor, xOff: number, out: Tensor, n: number, w: string, b: string): void {
  const { e, P, view, prefix, input } = ctx, rows = ctx.batch * ctx.seq;
  const wOff = view(`${prefix}.${w}`).off, biasOff = view(`${prefix}.${b}`).off;
  const lk = ctx.lookup;
  if (!lk) {
    e.matmul({ c: out, a: x, aOff: xOff, b: P, bOff: wOff, m: rows, n, k: input, bias: P, biasOff });
    return;
  }
  e.matmul({ c: lk.table, a: lk.rows[0], aOff: lk.rows[1], b: P, bOff: wOff, m: lk.vocab, n, k: input, bias: P, biasOff });
  e.embedding({ out, table: lk.table, ids: lk.ids, n: rows, dim: n });
}

export interface Layer {
  /** The output rows after forward: [tensor, offset], T·B × hidden. */
  out(): [Tensor, number];
  /** Gradient w.r.t. the output (training only). */
  readonly dOut?: Tensor;
  forward(x: Tensor, xOff: number): void;
  /** Accumulates weight gradients; writes the input gradient to dx when given (T·B × input). */
  backward(x: Tensor, xOff: number, dx: Tensor | null): void;
  /** Makes the last timestep's state the initial state of the next chunk. */
  carry(): void;
  reset(): void;
  /** The state tensors carried between chunks: each [tensor, length at offset 0]. */
  state(): [string, Tensor][];
}

/** Copies slot T of a (T+1)·B × H buffer into slot 0. */
export function carrySlot(e: Engine, t: Tensor, B: number, T: number, H: number): void {
  e.copy({ dst: t, src: t, srcOff: T * B * H, len: B * H });
}

/** Carry, reset and state for the cells whose only recurrent state is h: (T+1)·B × H, slot 0 carried in. */
export abstract class HStateLayer {
  protected abstract readonly ctx: LayerContext;
  protected abstract readonly h: Tensor;

  carry(): void {
    carrySlot(this.ctx.e, this.h, this.ctx.batch, this.ctx.seq, this.ctx.hidden);
  }

  reset(): void {
    this.ctx.e.zero({ out: this.h, len: this.ctx.batch * this.ctx.hidden });
  }

  state(): [string, Tensor][] {
    return [['h', this.h]];
  }
}
