// Entry point of the kernels module. Every thread (the main thread and each worker) calls
// run(tid, nt) for the command in the shared command block and does its share of it. Op codes and
// argument slots come from ../op-table.ts, which the TypeScript side reads too.
import { CTL, argF, argI, argP } from './kernel-layout';
import {
  Op, ZeroArg, CopyArg, BroadcastRowArg, SumRowsArg, MatmulArg, EmbeddingArg, EmbeddingBackwardArg, LstmForwardArg, LstmBackwardArg,
  SoftmaxXentArg, SumSquaresPartialsArg, SumPartialsArg, AdamWArg, BinaryArg, UnaryArg, ActBackwardArg, GruForwardArg, GruBackwardArg,
  MinScanArg, RmsNormForwardArg, RmsNormBackwardDxArg, RmsNormBackwardDwArg, InferStepArg, PackPanelsArg,
} from '../op-table';
import { zero, copy, broadcastRow, sumRows, embedding, embeddingBackward } from './basic';
import { matmul, packPanels, SCRATCH_BYTES } from './matmul';
import { lstmForward, lstmBackward } from './lstm';
import { softmaxXent } from './softmax';
import { mul, add, tanhForward, tanhBackward, geluForward, geluBackward } from './pointwise';
import { gruForward, gruBackward } from './gru';
import { minScanForward, minScanBackward } from './minscan';
import { rmsNormForward, rmsNormBackwardDx, rmsNormBackwardDw } from './rmsnorm';
import { sumSquaresPartials, sumPartials, adamw, SQ_CHUNK } from './optim';
import { inferStep } from './infer-step';

export function scratchBytes(): i32 { return SCRATCH_BYTES; }
export function sqChunk(): i32 { return SQ_CHUNK; }

export function run(tid: i32, nt: i32): void {
  switch (load<i32>(CTL, 12)) {
    case Op.Zero: zero(argP(ZeroArg.Out), argI(ZeroArg.Len), tid, nt); break;
    case Op.Copy: copy(argP(CopyArg.Dst), argP(CopyArg.Src), argI(CopyArg.Len), tid, nt); break;
    case Op.BroadcastRow:
      broadcastRow(argP(BroadcastRowArg.Out), argP(BroadcastRowArg.Row), argI(BroadcastRowArg.Rows), argI(BroadcastRowArg.Cols), tid, nt);
      break;
    case Op.SumRows:
      sumRows(argP(SumRowsArg.Out), argP(SumRowsArg.X), argI(SumRowsArg.Rows), argI(SumRowsArg.Cols), argI(SumRowsArg.Accumulate) != 0,
        tid, nt);
      break;
    case Op.Matmul:
      matmul(argP(MatmulArg.C), argP(MatmulArg.A), argP(MatmulArg.B), argI(MatmulArg.M), argI(MatmulArg.N), argI(MatmulArg.K),
        argI(MatmulArg.Flags), argP(MatmulArg.Scratch) + <usize>tid * <usize>SCRATCH_BYTES, argP(MatmulArg.Bias), tid, nt);
      break;
    case Op.PackPanels:
      packPanels(argP(PackPanelsArg.Dst), argP(PackPanelsArg.B), argI(PackPanelsArg.K), argI(PackPanelsArg.N), argI(PackPanelsArg.Flags), nt);
      break;
    case Op.Embedding:
      embedding(argP(EmbeddingArg.Out), argP(EmbeddingArg.Table), argP(EmbeddingArg.Ids), argI(EmbeddingArg.N), argI(EmbeddingArg.Dim),
        tid, nt);
      break;
    case Op.EmbeddingBackward:
      embeddingBackward(argP(EmbeddingBackwardArg.DTable), argP(EmbeddingBackwardArg.DOut), argP(EmbeddingBackwardArg.Ids),
        argI(EmbeddingBackwardArg.N), argI(EmbeddingBackwardArg.Dim), argI(EmbeddingBackwardArg.Vocab), tid, nt);
      break;
    case Op.LstmForward:
      lstmForward(argP(LstmForwardArg.Pre), argP(LstmForwardArg.Act), argP(LstmForwardArg.CPrev), argP(LstmForwardArg.C),
        argP(LstmForwardArg.H), argI(LstmForwardArg.Batch), argI(LstmForwardArg.Hidden), tid, nt);
      break;
    case Op.LstmBackward:
      lstmBackward(argP(LstmBackwardArg.Act), argP(LstmBackwardArg.CPrev), argP(LstmBackwardArg.C), argP(LstmBackwardArg.Dh),
        argP(LstmBackwardArg.DcNext), argP(LstmBackwardArg.DPre), argP(LstmBackwardArg.DcPrev), argI(LstmBackwardArg.Batch),
        argI(LstmBackwardArg.Hidden), tid, nt);
      break;
    case Op.SoftmaxXent:
      softmaxXent(argP(SoftmaxXentArg.Logits), argP(SoftmaxXentArg.Targets), argP(SoftmaxXentArg.Losses), argP(SoftmaxXentArg.DLogits),
        argI(SoftmaxXentArg.Rows), argI(SoftmaxXentArg.Vocab), <f32>argF(SoftmaxXentArg.Scale), tid, nt);
      break;
    case Op.SumSquaresPartials:
      sumSquaresPartials(argP(SumSquaresPartialsArg.X), argI(SumSquaresPartialsArg.Len), argP(SumSquaresPartialsArg.Partials), tid, nt);
      break;
    case Op.SumPartials:
      if (tid == 0) sumPartials(argP(SumPartialsArg.Out), argP(SumPartialsArg.Partials), argI(SumPartialsArg.Count));
      break;
    case Op.AdamW:
      adamw(argP(AdamWArg.Param), argP(AdamWArg.Grad), argP(AdamWArg.M), argP(AdamWArg.V), argI(AdamWArg.Len), <f32>argF(AdamWArg.Lr),
        <f32>argF(AdamWArg.Beta1), <f32>argF(AdamWArg.Beta2), <f32>argF(AdamWArg.Eps), <f32>argF(AdamWArg.WeightDecay),
        <f32>argF(AdamWArg.Bc1), <f32>argF(AdamWArg.Bc2), <f32>argF(AdamWArg.GradScale), tid, nt);
      break;
    case Op.Mul: mul(argP(BinaryArg.Out), argP(BinaryArg.A), argP(BinaryArg.B), argI(BinaryArg.Len), tid, nt); break;
    case Op.Add: add(argP(BinaryArg.Out), argP(BinaryArg.A), argP(BinaryArg.B), argI(BinaryArg.Len), tid, nt); break;
    case Op.TanhForward: tanhForward(argP(UnaryArg.Out), argP(UnaryArg.X), argI(UnaryArg.Len), tid, nt); break;
    case Op.TanhBackward:
      tanhBackward(argP(ActBackwardArg.Dx), argP(ActBackwardArg.Input), argP(ActBackwardArg.Dy), argI(ActBackwardArg.Len), tid, nt);
      break;
    case Op.GeluForward: geluForward(argP(UnaryArg.Out), argP(UnaryArg.X), argI(UnaryArg.Len), argP(UnaryArg.E), tid, nt); break;
    case Op.GeluBackward:
      geluBackward(argP(ActBackwardArg.Dx), argP(ActBackwardArg.Input), argP(ActBackwardArg.Dy), argI(ActBackwardArg.Len),
        argP(ActBackwardArg.E), tid, nt);
      break;
    case Op.GruForward:
      gruForward(argP(GruForwardArg.Gx), argP(GruForwardArg.Gh), argP(GruForwardArg.HPrev), argP(GruForwardArg.Act),
        argP(GruForwardArg.H), argI(GruForwardArg.Batch), argI(GruForwardArg.Hidden), tid, nt);
      break;
    case Op.GruBackward:
      gruBackward(argP(GruBackwardArg.Act), argP(GruBackwardArg.Gh), argP(GruBackwardArg.HPrev), argP(GruBackwardArg.Dh),
        argP(GruBackwardArg.DGx), argP(GruBackwardArg.DGh), argP(GruBackwardArg.DhPrev), argI(GruBackwardArg.Batch),
        argI(GruBackwardArg.Hidden), tid, nt);
      break;
    case Op.MinScanForward:
      minScanForward(argI(MinScanArg.MinLstm) != 0, argP(MinScanArg.Proj), argP(MinScanArg.Act), argP(MinScanArg.H),
        argI(MinScanArg.Steps), argI(MinScanArg.Batch), argI(MinScanArg.Hidden), argP(MinScanArg.Residual), argP(MinScanArg.Sum), tid, nt);
      break;
    case Op.MinScanBackward:
      minScanBackward(argI(MinScanArg.MinLstm) != 0, argP(MinScanArg.Proj), argP(MinScanArg.Act), argP(MinScanArg.H),
        argP(MinScanArg.Dh), argP(MinScanArg.DProj), argI(MinScanArg.Steps), argI(MinScanArg.Batch), argI(MinScanArg.Hidden), tid, nt);
      break;
    case Op.RmsNormForward:
      rmsNormForward(argP(RmsNormForwardArg.X), argP(RmsNormForwardArg.W), argP(RmsNormForwardArg.Out), argP(RmsNormForwardArg.Rstd),
        argI(RmsNormForwardArg.Rows), argI(RmsNormForwardArg.Cols), <f32>argF(RmsNormForwardArg.Eps), tid, nt);
      break;
    case Op.RmsNormBackwardDx:
      rmsNormBackwardDx(argP(RmsNormBackwardDxArg.X), argP(RmsNormBackwardDxArg.W), argP(RmsNormBackwardDxArg.Rstd),
        argP(RmsNormBackwardDxArg.DOut), argP(RmsNormBackwardDxArg.Dx), argI(RmsNormBackwardDxArg.Rows), argI(RmsNormBackwardDxArg.Cols),
        argP(RmsNormBackwardDxArg.Base), tid, nt);
      break;
    case Op.RmsNormBackwardDw:
      rmsNormBackwardDw(argP(RmsNormBackwardDwArg.X), argP(RmsNormBackwardDwArg.Rstd), argP(RmsNormBackwardDwArg.DOut),
        argP(RmsNormBackwardDwArg.Dw), argI(RmsNormBackwardDwArg.Rows), argI(RmsNormBackwardDwArg.Cols), tid, nt);
      break;
    case Op.InferStep: inferStep(argP(InferStepArg.Plan), argI(InferStepArg.Logits) != 0, tid, nt); break;
    default: break;
  }
}
