// The compute interface every backend implements (gpu.js modes, the WebAssembly SIMD engine).
//
// Why it looks like this:
// - Tensors are opaque handles owned by the backend: a Float32Array on a CPU backend, a texture or
//   a device buffer on a GPU backend. Model code never touches their storage, so a GPU backend
//   never has to copy to the host between operations.
// - Operations are *enqueued*: they return nothing and may run later. Only `read` and `sync` are
//   asynchronous. A synchronous backend runs each op at once; an asynchronous one (WebGPU) records
//   it into a command stream. Model code therefore stays plain synchronous loops, and awaits only
//   where it really needs numbers on the host (the loss, the gradient norm, sampled logits).
// - Every operand is a (tensor, offset) pair over contiguous row-major data, so a model keeps one
//   big buffer per quantity (all timesteps of a chunk) and the large products stay large.
// - All tensors are float32. Integer data (token ids) travels as exactly represented floats.
// - An op's output range must not overlap any of its input ranges unless the op says otherwise
//   (matmul accumulate reads and writes C by definition).
// - Every op takes one named-arguments object (offsets default to 0). Engines are backends
//   (op-layer.ts) behind one op layer that checks every operand once, for every engine.

export interface Tensor {
  readonly size: number;
}

export interface ZeroArgs {
  out: Tensor; outOff?: number;
  /** Default: the rest of the tensor. */
  len?: number;
}

export interface CopyArgs {
  /** Must not overlap src. */
  dst: Tensor; dstOff?: number;
  src: Tensor; srcOff?: number;
  len: number;
}

/** out[r, :] = row[:] for r < rows (bias broadcast before an accumulating matmul). */
export interface BroadcastRowArgs {
  out: Tensor; outOff?: number;
  row: Tensor; rowOff?: number;
  rows: number; cols: number;
}

/** out[:] (+)= Σ_r x[r, :] (bias gradient). */
export interface SumRowsArgs {
  out: Tensor; outOff?: number;
  x: Tensor; xOff?: number;
  rows: number; cols: number;
  accumulate?: boolean;
}

/** out[i, :] = table[ids[i], :] for i < n; ids index whole rows of table from tableOff on. */
export interface EmbeddingArgs {
  out: Tensor; outOff?: number;
  table: Tensor; tableOff?: number;
  ids: Tensor; idsOff?: number;
  n: number; dim: number;
}

/** dTable[ids[i], :] += dOut[i, :] for i < n (dTable has `vocab` rows). */
export interface EmbeddingBackwardArgs {
  dTable: Tensor; dTableOff?: number;
  dOut: Tensor; dOutOff?: number;
  ids: Tensor; idsOff?: number;
  n: number; dim: number; vocab: number;
}

/** out[i] = a[i] ∘ b[i] over len elements (mul: dropout masks; add: residuals). out may be a or b at the same offset. */
export interface BinaryArgs {
  out: Tensor; outOff?: number;
  a: Tensor; aOff?: number;
  b: Tensor; bOff?: number;
  len: number;
}

/** out = f(x) over len elements. */
export interface UnaryArgs {
  out: Tensor; outOff?: number;
  x: Tensor; xOff?: number;
  len: number;
}

/** dx = dy·(1 − y²) where y = tanh(x). dx may be dy at the same offset. */
export interface TanhBackwardArgs {
  dx: Tensor; dxOff?: number;
  y: Tensor; yOff?: number;
  dy: Tensor; dyOff?: number;
  len: number;
}

/**
 * out = gelu(x), the tanh approximation: 0.5·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³).
 * With `e`, also e = exp(−2u) per element (saturating where 2u < −87: engines differ there), which
 * geluBackward takes instead of computing it again.
 */
export interface GeluForwardArgs extends UnaryArgs {
  e?: Tensor; eOff?: number;
}

/** dx = dy·gelu'(x). dx may be dy at the same offset. */
export interface GeluBackwardArgs {
  dx: Tensor; dxOff?: number;
  x: Tensor; xOff?: number;
  dy: Tensor; dyOff?: number;
  /** Optional: exp(−2u) as geluForward stored it for this x. */
  e?: Tensor; eOff?: number;
  len: number;
}

/** out[outOff] = Σ x[xOff + i]² for i < len. */
export interface SumSquaresArgs {
  out: Tensor; outOff?: number;
  x: Tensor; xOff?: number;
  len: number;
}

export interface MatmulArgs {
  /** C is m×n. */
  c: Tensor; cOff?: number;
  /** A is m×k, or k×m when transA. */
  a: Tensor; aOff?: number;
  /** B is k×n, or n×k when transB. */
  b: Tensor; bOff?: number;
  m: number; n: number; k: number;
  transA?: boolean;
  transB?: boolean;
  /** C += op(A)·op(B) instead of C = op(A)·op(B). */
  accumulate?: boolean;
  /**
   * A row of n floats added to every row of C with the product: C = [C +] bias + op(A)·op(B).
   * Saves the separate broadcastRow pass over C before an accumulating product.
   */
  bias?: Tensor; biasOff?: number;
  /**
   * A promise about B, for a weight multiplied at every timestep: 'store' says B may have changed
   * since this range was last used (an engine may keep work done on it, such as a packed copy);
   * 'reuse' says B's values and this range, shape and transB are those of the last 'store'.
   * Engines that keep nothing ignore it; results are the same bits either way.
   */
  bCache?: 'store' | 'reuse';
}

export interface LstmForwardArgs {
  /** Pre-activations, batch×4H, gate order [i | f | g | o] in each row. */
  pre: Tensor; preOff?: number;
  /** Out: activated gates, batch×4H, same order: sigmoid(i), sigmoid(f), tanh(g), sigmoid(o). */
  act: Tensor; actOff?: number;
  /** Previous cell state, batch×H. */
  cPrev: Tensor; cPrevOff?: number;
  /** Out: new cell state c = f·cPrev + i·g, batch×H. */
  c: Tensor; cOff?: number;
  /** Out: new hidden state h = o·tanh(c), batch×H. */
  h: Tensor; hOff?: number;
  batch: number; hidden: number;
}

export interface LstmBackwardArgs {
  act: Tensor; actOff?: number;
  cPrev: Tensor; cPrevOff?: number;
  c: Tensor; cOff?: number;
  /** Gradient of the loss w.r.t. h (from the layer above and from the next timestep), batch×H. */
  dh: Tensor; dhOff?: number;
  /** Gradient w.r.t. c flowing back from the next timestep, batch×H. */
  dcNext: Tensor; dcNextOff?: number;
  /** Out: gradient w.r.t. the pre-activations, batch×4H. */
  dPre: Tensor; dPreOff?: number;
  /** Out: gradient w.r.t. cPrev, batch×H. */
  dcPrev: Tensor; dcPrevOff?: number;
  batch: number; hidden: number;
}

export interface GruForwardArgs {
  /** Input projection x·W_x + b_x for this timestep, batch×3H, gate order [r | z | n]. */
  gx: Tensor; gxOff?: number;
  /** Recurrent projection h_{t-1}·W_h + b_h, batch×3H, same order. Kept: backward needs its n part. */
  gh: Tensor; ghOff?: number;
  hPrev: Tensor; hPrevOff?: number;
  /** Out: activated gates, batch×3H: r = σ(gx_r + gh_r), z = σ(gx_z + gh_z), n = tanh(gx_n + r·gh_n). */
  act: Tensor; actOff?: number;
  /** Out: h = (1 − z)·n + z·hPrev, batch×H. */
  h: Tensor; hOff?: number;
  batch: number; hidden: number;
}

export interface GruBackwardArgs {
  act: Tensor; actOff?: number;
  gh: Tensor; ghOff?: number;
  hPrev: Tensor; hPrevOff?: number;
  /** Gradient w.r.t. h, batch×H. */
  dh: Tensor; dhOff?: number;
  /** Out: gradient w.r.t. gx, batch×3H. */
  dGx: Tensor; dGxOff?: number;
  /** Out: gradient w.r.t. gh, batch×3H (its n part is dn_pre·r). */
  dGh: Tensor; dGhOff?: number;
  /** Accumulated: dhPrev += dh·z (the direct path; the caller adds dGh·W_hᵀ). */
  dhPrev: Tensor; dhPrevOff?: number;
  batch: number; hidden: number;
}

/**
 * The minimal gated cells over a whole chunk (Feng et al., 2024): the gates depend only on the
 * input, so the recurrence is an elementwise linear scan h_t = a_t·h_{t−1} + b_t, run over time
 * for all batch×hidden channels at once. g(x) = x + 0.5 for x ≥ 0, σ(x) otherwise.
 * - minGRU: proj rows [k | u] (2H); z = σ(k); a = 1 − z; b = z·g(u). act rows [z | g(u)].
 * - minLSTM: proj rows [f | i | u] (3H); f' = σ(f)/(σ(f)+σ(i)), i' = σ(i)/(σ(f)+σ(i)); a = f';
 *   b = i'·g(u). act rows [f' | i' | g(u)].
 */
export interface MinScanForwardArgs {
  cell: 'mingru' | 'minlstm';
  /** steps·batch rows, time-major. */
  proj: Tensor; projOff?: number;
  /** Out: activations, same shape as proj. */
  act: Tensor; actOff?: number;
  /** (steps+1)·batch×H: slot 0 is the state carried in; slots 1..steps are written. */
  h: Tensor; hOff?: number;
  /**
   * Optional, both or neither: sum = residual + h (slots 1..steps), steps·batch×H, the residual
   * stream written in the same pass. sum may be residual itself.
   */
  residual?: Tensor; residualOff?: number;
  sum?: Tensor; sumOff?: number;
  steps: number; batch: number; hidden: number;
}

export interface MinScanBackwardArgs {
  cell: 'mingru' | 'minlstm';
  proj: Tensor; projOff?: number;
  /** As minScanForward wrote it: g'(u) is taken from g(u) here, not recomputed from proj. */
  act: Tensor; actOff?: number;
  h: Tensor; hOff?: number;
  /** Gradient w.r.t. h slots 1..steps, steps·batch×H. Not modified. */
  dh: Tensor; dhOff?: number;
  /** Out: gradient w.r.t. proj (no gradient flows into slot 0: truncated BPTT). */
  dProj: Tensor; dProjOff?: number;
  steps: number; batch: number; hidden: number;
}

/** The classic recurrent cells, whose gates depend on the previous state (recurrentForward). */
export type RecurrentCell = 'lstm' | 'gru' | 'rnn';

/**
 * One classic recurrent layer over a chunk of steps (time-major rows t·batch + b), the recurrence
 * only: the input projections of every step come in precomputed, and for t < steps the cell
 * combines x_t with h_t·W_h (GRU: h_t·W_h + b_h) into h_{t+1}. An engine may run it as one kernel
 * per timestep. Gate orders are the per-step ops': lstm [i | f | g | o], gru [r | z | n].
 */
export interface RecurrentForwardArgs {
  cell: RecurrentCell;
  /** Input projections x·W_x + b, steps·batch × G·H (G = GATES[cell]). The engine may overwrite them. */
  x: Tensor; xOff?: number;
  /** Recurrent weights W_h, H × G·H. */
  w: Tensor; wOff?: number;
  /** gru only: the recurrent bias b_h (G·H), inside the reset gate's product. */
  bias?: Tensor; biasOff?: number;
  /** (steps+1)·batch × H: slot 0 is the state carried in (read), slots 1..steps are written. */
  h: Tensor; hOff?: number;
  /** lstm only: the cell state, laid out like h. */
  c?: Tensor; cOff?: number;
  /** What the backward needs, recurrentSizes().saved floats in a layout of the engine's own. */
  saved: Tensor; savedOff?: number;
  steps: number; batch: number; hidden: number;
}

export interface RecurrentBackwardArgs {
  cell: RecurrentCell;
  w: Tensor; wOff?: number;
  /** x, h, c and saved as recurrentForward left them. */
  x: Tensor; xOff?: number;
  h: Tensor; hOff?: number;
  c?: Tensor; cOff?: number;
  saved: Tensor; savedOff?: number;
  /** Gradient w.r.t. h slots 1..steps, steps·batch × H. The engine may overwrite it. */
  dh: Tensor; dhOff?: number;
  /**
   * Out: gradient w.r.t. the gate pre-activations x + h·W_h, steps·batch × G·H: the input
   * projection's gradient, and (lstm, rnn) the recurrent product's. No gradient flows into slot 0
   * (truncated BPTT).
   */
  dx: Tensor; dxOff?: number;
  /** gru only, out: gradient w.r.t. h·W_h + b_h, steps·batch × 3H (its n block is dx's times r). */
  dRec?: Tensor; dRecOff?: number;
  /** recurrentSizes().scratch floats. */
  scratch: Tensor; scratchOff?: number;
  steps: number; batch: number; hidden: number;
}

/** Floats of the tensors a layer hands recurrentForward (saved) and recurrentBackward (scratch). */
export interface RecurrentSizes {
  saved: number;
  scratch: number;
}

export interface RmsNormArgs {
  /** rows×cols input. */
  x: Tensor; xOff?: number;
  /** cols gains. */
  w: Tensor; wOff?: number;
  /** Out: x / sqrt(mean(x²) + eps) · w. */
  out: Tensor; outOff?: number;
  /** Out: per-row 1/sqrt(mean(x²) + eps), kept for backward. */
  rstd: Tensor; rstdOff?: number;
  rows: number; cols: number; eps: number;
}

export interface RmsNormBackwardArgs {
  x: Tensor; xOff?: number;
  w: Tensor; wOff?: number;
  rstd: Tensor; rstdOff?: number;
  dOut: Tensor; dOutOff?: number;
  /** Accumulated: dx += ∂loss/∂x (residual streams sum their gradients). */
  dx: Tensor; dxOff?: number;
  /**
   * Optional: dx = residual + ∂loss/∂x instead, dx's old values unread (saves copying the
   * residual stream's own gradient into dx first). May be dx itself.
   */
  residual?: Tensor; residualOff?: number;
  /** Accumulated: dw += ∂loss/∂w. */
  dw: Tensor; dwOff?: number;
  rows: number; cols: number;
}

export interface SoftmaxXentArgs {
  /** rows×vocab logits. */
  logits: Tensor; logitsOff?: number;
  /** rows target ids. */
  targets: Tensor; targetsOff?: number;
  /** Out: rows per-row losses, −log softmax(logits)[target], in nats. */
  losses: Tensor; lossesOff?: number;
  /** Out (optional): (softmax − onehot(target))·scale, rows×vocab. */
  dLogits?: Tensor; dLogitsOff?: number;
  rows: number; vocab: number;
  scale?: number;
}

export interface AdamWArgs {
  param: Tensor; grad: Tensor; m: Tensor; v: Tensor;
  /** The same offset into all four tensors. */
  off: number; len: number;
  lr: number; beta1: number; beta2: number; eps: number;
  weightDecay: number;
  /** 1-based step count, for bias correction. */
  step: number;
  /** Multiplies the gradient first (gradient-norm clipping). */
  gradScale: number;
  /**
   * Optional, clipping without reading the norm back: the squared global gradient norm as one
   * float in a tensor (as sumSquares wrote it). gradScale is then taken as clip/norm where
   * norm > clip > 0, else 1, and nothing is updated where the norm is not finite.
   */
  normSq?: Tensor; normSqOff?: number; clip?: number;
  /**
   * Optional: per-element weight decay, decay[off + i]·weightDecay (1 for matrices, 0 for biases
   * and gains), so one call updates a whole parameter buffer.
   */
  decay?: Tensor;
}

/** Gates per cell: how many hidden-wide blocks its projections have (the parameter layout's and every plan's). */
export const GATES = { lstm: 4, gru: 3, rnn: 1, mingru: 2, minlstm: 3 } as const;

/** Where a classic (lstm, gru, rnn) layer's weights start in the flat parameter tensor. */
export interface ClassicOffsets {
  wx: number; wh: number;
  /** The input projection's bias (gru: b_x). */
  bx: number;
  /** gru only: the recurrent projection's bias b_h; null for lstm and rnn. */
  bh: number | null;
  /** A gru with normalised gates (src/model/config.ts gateNorm): the gains of x·W_x and h·W_h; else null. */
  normX: number | null;
  normH: number | null;
}

/** Where a residual (mingru, minlstm) block's weights start; `mlp` null when it has no MLP. */
export interface ResidualOffsets {
  norm1: number; w: number; bias: number;
  mlp: { norm2: number; w1: number; b1: number; w2: number; b2: number } | null;
}

/**
 * The model an inference plan runs: its shape, where each weight starts in the flat parameter
 * tensor and the constants its ops use. Plain data the model hands over, so engines need neither
 * model code nor parameter names.
 */
export interface InferModel {
  cell: 'lstm' | 'gru' | 'rnn' | 'mingru' | 'minlstm';
  vocab: number; embed: number; hidden: number; layers: number;
  /** MLP expansion of the residual blocks (0: none); ignored by lstm, gru, rnn. */
  mlp: number;
  /** GRU zoneout probability p (absent or 0: none): each step's state is p·h_{t−1} + (1 − p)·h̃_t, its expectation. */
  zoneout?: number;
  params: Tensor;
  /** RMSNorm's epsilon (the residual stacks' norms). */
  eps: number;
  embedding: number;
  head: { w: number; b: number };
  /** Residual stacks: the stem (embed → hidden; null when they are equal) and the final norm's gains. */
  stem: number | null;
  normF: number | null;
  /** One entry per layer: ClassicOffsets for lstm, gru and rnn, ResidualOffsets for the others. */
  classic: ClassicOffsets[];
  residual: ResidualOffsets[];
}

/**
 * An engine's inference state for `streams` independent streams: weights packed once (a snapshot
 * taken at prepare time), the recurrent state and the last logits. No activations are kept.
 * State layout for read/write, whatever the engine: per layer, h (streams × hidden), then for
 * lstm c (streams × hidden).
 */
export interface InferPlan {
  readonly streams: number;
  readonly vocab: number;
  /** Floats in the state vector of inferReadState / inferWriteState. */
  readonly stateSize: number;
}

export interface EngineMemory {
  /** Bytes of the tensors allocated and not freed. */
  tensors: number;
  /**
   * Bytes the backend has reserved for everything it holds (tensors, plans, packed copies), where
   * it manages memory itself (simd: its WebAssembly memory, which grows but never shrinks); null
   * where the host's or the device's allocator does.
   */
  reserved: number | null;
}

/** The engine's name with its kernels' build where it has several, e.g. "simd (relaxed kernels)". */
export function engineLabel(e: { name: string; variant?: string }): string {
  return e.variant ? `${e.name} (${e.variant} kernels)` : e.name;
}

export interface Engine {
  /** Backend name as the user selects it, e.g. "cpu", "webgpu", "gpujs-webasm". */
  readonly name: string;
  /** The build of its kernels where an engine has several (simd: "relaxed" or "plain"). */
  readonly variant?: string;
  /**
   * A read waits for every queued kernel and stalls the pipeline (a GPU): callers keep numbers on
   * the device and read them as rarely as they can. False where reads are cheap (host memory).
   */
  readonly readsBlock: boolean;
  /** A zero-filled tensor of `size` floats. */
  tensor(size: number): Tensor;
  /** Copies host data into t at off. */
  write(t: Tensor, data: Float32Array, off?: number): void;
  /** Resolves with a host copy of t[off, off+len). */
  read(t: Tensor, off?: number, len?: number): Promise<Float32Array>;
  /** Resolves when every enqueued op has finished. */
  sync(): Promise<void>;
  /**
   * Hands t's storage back: a later tensor may reuse it, and t must not be used again. What a
   * finished phase allocated (an estimate's workspace, a plan) is freed so a long run stays flat.
   */
  free(t: Tensor): void;
  /** Memory the engine holds now: see EngineMemory. */
  memory(): EngineMemory;
  /** Releases every tensor and worker. The engine is unusable afterwards. */
  dispose(): void;

  zero(args: ZeroArgs): void;
  copy(args: CopyArgs): void;
  broadcastRow(args: BroadcastRowArgs): void;
  sumRows(args: SumRowsArgs): void;
  matmul(args: MatmulArgs): void;
  embedding(args: EmbeddingArgs): void;
  embeddingBackward(args: EmbeddingBackwardArgs): void;
  lstmForward(args: LstmForwardArgs): void;
  lstmBackward(args: LstmBackwardArgs): void;
  softmaxXent(args: SoftmaxXentArgs): void;
  mul(args: BinaryArgs): void;
  add(args: BinaryArgs): void;
  /** out = tanh(x). */
  tanhForward(args: UnaryArgs): void;
  tanhBackward(args: TanhBackwardArgs): void;
  geluForward(args: GeluForwardArgs): void;
  geluBackward(args: GeluBackwardArgs): void;
  gruForward(args: GruForwardArgs): void;
  gruBackward(args: GruBackwardArgs): void;
  minScanForward(args: MinScanForwardArgs): void;
  minScanBackward(args: MinScanBackwardArgs): void;
  rmsNormForward(args: RmsNormArgs): void;
  rmsNormBackward(args: RmsNormBackwardArgs): void;
  sumSquares(args: SumSquaresArgs): void;
  adamw(args: AdamWArgs): void;
  /** The tensor sizes recurrentForward and recurrentBackward need at this shape, on this engine. */
  recurrentSizes(cell: RecurrentCell, steps: number, batch: number, hidden: number): RecurrentSizes;
  recurrentForward(args: RecurrentForwardArgs): void;
  recurrentBackward(args: RecurrentBackwardArgs): void;

  /** Packs the model's weights for one-character steps of `streams` streams; the state starts at zero. */
  inferPrepare(model: InferModel, streams: number): InferPlan;
  /**
   * Advances every stream by one character: ids[s] is stream s's input. With `logits`, also runs
   * the head; each stream's numbers are the same whatever the stream count or thread count.
   */
  inferStep(plan: InferPlan, ids: ArrayLike<number>, logits: boolean): void;
  /** Copies the logits of the last step that computed them (streams × vocab) into out. */
  inferLogits(plan: InferPlan, out: Float32Array): Promise<void>;
  inferReset(plan: InferPlan): void;
  inferReadState(plan: InferPlan): Promise<Float32Array>;
  inferWriteState(plan: InferPlan, state: Float32Array): void;
  /** Frees what the plan holds; the plan must not be used again. */
  inferRelease(plan: InferPlan): void;
}
