// Entry point of the kernels module. Every thread (the main thread and each worker) calls
// run(tid, nt) for the command in the shared command block and does its share of it; op codes and
// argument order match src/engine/simd/ops.ts.
import { CTL, argF, argI, argP } from './layout';
import { zero, copy, broadcastRow, sumRows, embedding, embeddingBackward } from './basic';
import { matmul, packPanels, SCRATCH_BYTES } from './matmul';
import { lstmForward, lstmBackward } from './lstm';
import { softmaxXent } from './softmax';
import { mul, add, tanhForward, tanhBackward, geluForward, geluBackward } from './pointwise';
import { gruForward, gruBackward } from './gru';
import { minScanForward, minScanBackward } from './minscan';
import { rmsNormForward, rmsNormBackwardDx, rmsNormBackwardDw } from './rmsnorm';
import { sumSquaresPartials, sumPartials, adamw, SQ_CHUNK } from './optim';
import { inferStep } from './infer';

export function scratchBytes(): i32 { return SCRATCH_BYTES; }
export function sqChunk(): i32 { return SQ_CHUNK; }

export function run(tid: i32, nt: i32): void {
  switch (load<i32>(CTL, 12)) {
    case 1: zero(argP(0), argI(1), tid, nt); break;
    case 2: copy(argP(0), argP(1), argI(2), tid, nt); break;
    case 3: broadcastRow(argP(0), argP(1), argI(2), argI(3), tid, nt); break;
    case 4: sumRows(argP(0), argP(1), argI(2), argI(3), argI(4) != 0, tid, nt); break;
    case 5: matmul(argP(0), argP(1), argP(2), argI(3), argI(4), argI(5), argI(6),
      argP(7) + <usize>tid * <usize>SCRATCH_BYTES, tid, nt); break;
    case 6: embedding(argP(0), argP(1), argP(2), argI(3), argI(4), tid, nt); break;
    case 7: embeddingBackward(argP(0), argP(1), argP(2), argI(3), argI(4), argI(5), tid, nt); break;
    case 8: lstmForward(argP(0), argP(1), argP(2), argP(3), argP(4), argI(5), argI(6), tid, nt); break;
    case 9: lstmBackward(argP(0), argP(1), argP(2), argP(3), argP(4), argP(5), argP(6), argI(7), argI(8), tid, nt); break;
    case 10: softmaxXent(argP(0), argP(1), argP(2), argP(3), argI(4), argI(5), <f32>argF(6), tid, nt); break;
    case 11: sumSquaresPartials(argP(0), argI(1), argP(2), tid, nt); break;
    case 12: if (tid == 0) sumPartials(argP(0), argP(1), argI(2)); break;
    case 13: adamw(argP(0), argP(1), argP(2), argP(3), argI(4), <f32>argF(5), <f32>argF(6), <f32>argF(7),
      <f32>argF(8), <f32>argF(9), <f32>argF(10), <f32>argF(11), <f32>argF(12), tid, nt); break;
    case 14: mul(argP(0), argP(1), argP(2), argI(3), tid, nt); break;
    case 15: add(argP(0), argP(1), argP(2), argI(3), tid, nt); break;
    case 16: tanhForward(argP(0), argP(1), argI(2), tid, nt); break;
    case 17: tanhBackward(argP(0), argP(1), argP(2), argI(3), tid, nt); break;
    case 18: geluForward(argP(0), argP(1), argI(2), tid, nt); break;
    case 19: geluBackward(argP(0), argP(1), argP(2), argI(3), tid, nt); break;
    case 20: gruForward(argP(0), argP(1), argP(2), argP(3), argP(4), argI(5), argI(6), tid, nt); break;
    case 21: gruBackward(argP(0), argP(1), argP(2), argP(3), argP(4), argP(5), argP(6), argI(7), argI(8), tid, nt); break;
    case 22: minScanForward(argI(0) != 0, argP(1), argP(2), argP(3), argI(4), argI(5), argI(6), tid, nt); break;
    case 23: minScanBackward(argI(0) != 0, argP(1), argP(2), argP(3), argP(4), argP(5), argI(6), argI(7), argI(8), tid, nt); break;
    case 24: rmsNormForward(argP(0), argP(1), argP(2), argP(3), argI(4), argI(5), <f32>argF(6), tid, nt); break;
    case 25: rmsNormBackwardDx(argP(0), argP(1), argP(2), argP(3), argP(4), argI(5), argI(6), tid, nt); break;
    case 26: rmsNormBackwardDw(argP(0), argP(1), argP(2), argP(3), argI(4), argI(5), tid, nt); break;
    case 27: inferStep(argP(0), argI(1) != 0, tid, nt); break;
    case 28: packPanels(argP(0), argP(1), argI(2), argI(3), argI(4), tid, nt); break;
    default: break;
  }
}
