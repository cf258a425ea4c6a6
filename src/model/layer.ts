// What the model needs from one stacked layer, whatever its cell. Every layer maps a chunk of
// T·B input rows (time-major) to T·B output rows of width `hidden`, carries a recurrent state from
// chunk to chunk, and in training mode back-propagates a gradient w.r.t. its output (`dOut`,
// filled by whatever sits above it) into its weights and its input.
import type { Engine, Tensor } from '../engine/engine-api.js';
import type { ParamView } from './params.js';
import type { ExpectedState } from '../engine/zoneout-state.js';

export interface LayerContext {
  e: Engine;
  /** A zeroed tensor owned by the workspace, freed with it: layers allocate only through this. */
  alloc: (floats: number) => Tensor;
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
  /** The first layer: its input projection is looked up by id (projectInput, MinBlock). */
  lookup?: InputLookup;
  /** Training with DropConnect: this step's mask of W_h (kept entries scaled by 1/(1−p)) and W_h times it. */
  weightDrop?: { mask: Tensor; dropped: Tensor };
  /**
   * GRU zoneout (zoneout.ts). Training: this step's mask, added to the gate pre-activations (T·B ×
   * 3H). Inference: what the expected state needs.
   */
  zoneout?: { mask: Tensor } | { expected: ExpectedState };
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
  /**
   * Training: the projection's gradient summed per id (vocab × n scratch), and where the layer
   * adds the gradient w.r.t. each of its input rows (vocab × input) instead of writing dx.
   */
  grad?: { table: Tensor; rows: [Tensor, number] };
}

/**
 * The input projection of a chunk into `out` (T·B × n): x·W_x + b, one product for all timesteps.
 * With ctx.lookup the input rows are embedding rows, so the projection is a lookup in a table of
 * E·W_x + b (vocab rows, computed on every call, so it always follows the weights): each entry is
 * the same product with the same bias in the same order, the same bits, for vocab rows instead of
 * T·B.
 */
export function projectInput(ctx: LayerContext, x: Tensor, xOff: number, out: Tensor, n: number, w: string, b: string | null): void {
  const { e, P, view, prefix, input } = ctx, rows = ctx.batch * ctx.seq;
  const wOff = view(`${prefix}.${w}`).off;
  // No bias name: the product alone (a normalised cell adds its bias after the norm).
  const bias = b === null ? {} : { bias: P, biasOff: view(`${prefix}.${b}`).off };
  const lk = ctx.lookup;
  if (!lk) {
    e.matmul({ c: out, a: x, aOff: xOff, b: P, bOff: wOff, m: rows, n, k: input, ...bias });
    return;
  }
  e.matmul({ c: lk.table, a: lk.rows[0], aOff: lk.rows[1], b: P, bOff: wOff, m: lk.vocab, n, k: input, ...bias });
  e.embedding({ out, table: lk.table, ids: lk.ids, n: rows, dim: n });
}

/** dG (T·B × width) summed over the positions of each id, into lk.grad.table (vocab × width). */
export function sumPerId(ctx: LayerContext, lk: InputLookup, dG: Tensor, width: number): Tensor {
  const table = lk.grad!.table;
  ctx.e.zero({ out: table, len: lk.vocab * width });
  ctx.e.embeddingBackward({ dTable: table, dOut: dG, ids: lk.ids, n: ctx.batch * ctx.seq, dim: width, vocab: lk.vocab });
  return table;
}

/**
 * The backward of projectInput, given dG (T·B × n): dW_x += xᵀ·dG, db += Σ dG, dx = dG·W_xᵀ. With
 * a lookup, every position of one id has the same input row, so the three products run on dG
 * summed per id (vocab rows instead of T·B; sums in another order, so other rounding) and the
 * input gradient is added per id to lookup.grad.rows.
 */
export function projectInputBackward(ctx: LayerContext, x: Tensor, xOff: number, dG: Tensor, n: number, w: string, b: string | null, dx: Tensor | null): void {
  const { e, P, G, view, prefix, input } = ctx, positions = ctx.batch * ctx.seq;
  const wOff = view(`${prefix}.${w}`).off;
  const lk = ctx.lookup, perId = lk?.grad;
  let [a, aOff, d, rows] = [x, xOff, dG, positions];
  if (lk && perId) [a, aOff, d, rows] = [lk.rows[0], lk.rows[1], sumPerId(ctx, lk, dG, n), lk.vocab];
  e.matmul({ c: G!, cOff: wOff, a, aOff, b: d, m: input, n, k: rows, transA: true, accumulate: true });
  if (b !== null) e.sumRows({ out: G!, outOff: view(`${prefix}.${b}`).off, x: d, rows, cols: n, accumulate: true });
  if (perId) {
    e.matmul({ c: perId.rows[0], cOff: perId.rows[1], a: d, b: P, bOff: wOff, m: rows, n: input, k: n, transB: true, accumulate: true });
  } else if (dx) {
    e.matmul({ c: dx, a: d, b: P, bOff: wOff, m: rows, n: input, k: n, transB: true });
  }
}

/**
 * The recurrent weights this step's products use, [tensor, offset]: W_h itself, or with
 * DropConnect its masked copy, made here (call once per forward, before the timesteps).
 */
export function recurrentWeights(ctx: LayerContext, w: string, make: boolean): [Tensor, number] {
  const v = ctx.view(`${ctx.prefix}.${w}`), wd = ctx.weightDrop;
  if (!wd) return [ctx.P, v.off];
  if (make) ctx.e.mul({ out: wd.dropped, a: ctx.P, aOff: v.off, b: wd.mask, len: v.size });
  return [wd.dropped, 0];
}

/** With DropConnect, W_h's gradient so far is the masked copy's: the mask carries it to W_h. */
export function maskRecurrentGrad(ctx: LayerContext, w: string): void {
  const v = ctx.view(`${ctx.prefix}.${w}`), wd = ctx.weightDrop;
  if (wd) ctx.e.mul({ out: ctx.G!, outOff: v.off, a: ctx.G!, aOff: v.off, b: wd.mask, len: v.size });
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
