// The simd engine's command table, read by both sides: the TypeScript wrappers (ops-*.ts) write a
// command's arguments into the slots named here, and the kernels' dispatch (assembly/index.ts)
// reads them from the same slots. It is written in the subset of TypeScript that AssemblyScript
// also compiles (enums of integer constants only), so the two sides cannot drift apart.
//
// Adding an op: its code in Op, an enum of its argument slots, a case in assembly/index.ts and a
// wrapper that fills the slots.

/** Command codes (0 is no command). */
export enum Op {
  Zero = 1,
  Copy,
  BroadcastRow,
  SumRows,
  Matmul,
  Embedding,
  EmbeddingBackward,
  LstmForward,
  LstmBackward,
  SoftmaxXent,
  SumSquaresPartials,
  SumPartials,
  AdamW,
  Mul,
  Add,
  TanhForward,
  TanhBackward,
  GeluForward,
  GeluBackward,
  GruForward,
  GruBackward,
  MinScanForward,
  MinScanBackward,
  RmsNormForward,
  RmsNormBackwardDx,
  RmsNormBackwardDw,
  InferStep,
  PackPanels,
}

// Argument slots, one enum per command. Pointers are byte addresses; every slot holds a float64.

export enum ZeroArg { Out, Len }
export enum CopyArg { Dst, Src, Len }
export enum BroadcastRowArg { Out, Row, Rows, Cols }
export enum SumRowsArg { Out, X, Rows, Cols, Accumulate }
/** Bias: a row of n floats starting every sum (0: none). */
export enum MatmulArg { C, A, B, M, N, K, Flags, Scratch, Bias }
/** Bits of MatmulArg.Flags. */
export enum MatmulFlag { TransA = 1, TransB = 2, Accumulate = 4, /** B is packed whole (PackPanels). */ Packed = 8 }
/** Flags: MatmulFlag.TransB or 0. */
export enum PackPanelsArg { Dst, B, K, N, Flags }
export enum EmbeddingArg { Out, Table, Ids, N, Dim }
export enum EmbeddingBackwardArg { DTable, DOut, Ids, N, Dim, Vocab }
export enum LstmForwardArg { Pre, Act, CPrev, C, H, Batch, Hidden }
export enum LstmBackwardArg { Act, CPrev, C, Dh, DcNext, DPre, DcPrev, Batch, Hidden }
export enum SoftmaxXentArg { Logits, Targets, Losses, DLogits, Rows, Vocab, Scale }
export enum SumSquaresPartialsArg { X, Len, Partials }
export enum SumPartialsArg { Out, Partials, Count }
export enum AdamWArg { Param, Grad, M, V, Len, Lr, Beta1, Beta2, Eps, WeightDecay, Bc1, Bc2, GradScale }
/** Mul and Add. */
export enum BinaryArg { Out, A, B, Len }
/** TanhForward and GeluForward (E: gelu's exp(−2u) kept per element, 0: none; tanh leaves it unread). */
export enum UnaryArg { Out, X, Len, E }
/** TanhBackward (Input is y) and GeluBackward (Input is x; E: exp(−2u) as geluForward kept it, 0: none). */
export enum ActBackwardArg { Dx, Input, Dy, Len, E }
export enum GruForwardArg { Gx, Gh, HPrev, Act, H, Batch, Hidden }
export enum GruBackwardArg { Act, Gh, HPrev, Dh, DGx, DGh, DhPrev, Batch, Hidden }
/**
 * MinScanForward and MinScanBackward (Dh and DProj are backward's only; Residual and Sum forward's
 * only, sum = residual + h, both 0 for none).
 */
export enum MinScanArg { MinLstm, Proj, Act, H, Steps, Batch, Hidden, Dh, DProj, Residual, Sum }
export enum RmsNormForwardArg { X, W, Out, Rstd, Rows, Cols, Eps }
/** Base: dx's starting values, dx itself (accumulate) or a residual gradient. */
export enum RmsNormBackwardDxArg { X, W, Rstd, DOut, Dx, Rows, Cols, Base }
export enum RmsNormBackwardDwArg { X, Rstd, DOut, Dw, Rows, Cols }
export enum InferStepArg { Plan, Logits }
