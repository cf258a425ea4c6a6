// Recurrent cells, normalization and activations.
import type {
  GruBackwardArgs, GruForwardArgs, LstmBackwardArgs, LstmForwardArgs, MinScanBackwardArgs, MinScanForwardArgs,
  RmsNormArgs, RmsNormBackwardArgs, Tensor,
} from '../engine.js';
import { type Ctx, PAR_CELLS, PAR_FLOATS } from './context.js';
import { Op } from './layout.js';
import { checkCount } from './tensor.js';

/** Transcendental pointwise ops cost ~10× a copy per element, hence the lower threshold. */
const PAR_ACT = PAR_FLOATS / 8;

export function unary(cx: Ctx, op: Op, name: string, out: Tensor, outOff: number, x: Tensor, xOff: number, len: number): void {
  const a = cx.args();
  a[0] = cx.at(out, outOff, len, `${name} out`); a[1] = cx.at(x, xOff, len, `${name} x`); a[2] = len;
  cx.exec(op, len, PAR_ACT);
}

/** dx = dy·f'(…) ops: dx may be dy in place. */
export function backward(cx: Ctx, op: Op, name: string, dx: Tensor, dxOff: number, y: Tensor, yOff: number,
  dy: Tensor, dyOff: number, len: number): void {
  const a = cx.args();
  a[0] = cx.at(dx, dxOff, len, `${name} dx`); a[1] = cx.at(y, yOff, len, `${name} input`); a[2] = cx.at(dy, dyOff, len, `${name} dy`);
  a[3] = len;
  cx.exec(op, len, PAR_ACT);
}

export function lstmForward(cx: Ctx, l: LstmForwardArgs): void {
  checkCount(l.batch, 'batch'); checkCount(l.hidden, 'hidden');
  const bh = l.batch * l.hidden, a = cx.args();
  a[0] = cx.at(l.pre, l.preOff, 4 * bh, 'lstmForward pre'); a[1] = cx.at(l.act, l.actOff, 4 * bh, 'lstmForward act');
  a[2] = cx.at(l.cPrev, l.cPrevOff, bh, 'lstmForward cPrev'); a[3] = cx.at(l.c, l.cOff, bh, 'lstmForward c');
  a[4] = cx.at(l.h, l.hOff, bh, 'lstmForward h'); a[5] = l.batch; a[6] = l.hidden;
  cx.exec(Op.LstmForward, l.batch > 1 ? bh : 0, PAR_CELLS);
}

export function lstmBackward(cx: Ctx, l: LstmBackwardArgs): void {
  checkCount(l.batch, 'batch'); checkCount(l.hidden, 'hidden');
  const bh = l.batch * l.hidden, a = cx.args();
  a[0] = cx.at(l.act, l.actOff, 4 * bh, 'lstmBackward act'); a[1] = cx.at(l.cPrev, l.cPrevOff, bh, 'lstmBackward cPrev');
  a[2] = cx.at(l.c, l.cOff, bh, 'lstmBackward c'); a[3] = cx.at(l.dh, l.dhOff, bh, 'lstmBackward dh');
  a[4] = cx.at(l.dcNext, l.dcNextOff, bh, 'lstmBackward dcNext');
  a[5] = cx.at(l.dPre, l.dPreOff, 4 * bh, 'lstmBackward dPre');
  a[6] = cx.at(l.dcPrev, l.dcPrevOff, bh, 'lstmBackward dcPrev'); a[7] = l.batch; a[8] = l.hidden;
  cx.exec(Op.LstmBackward, l.batch > 1 ? bh : 0, PAR_CELLS);
}

export function gruForward(cx: Ctx, g: GruForwardArgs): void {
  checkCount(g.batch, 'batch'); checkCount(g.hidden, 'hidden');
  const bh = g.batch * g.hidden, a = cx.args();
  a[0] = cx.at(g.gx, g.gxOff, 3 * bh, 'gruForward gx'); a[1] = cx.at(g.gh, g.ghOff, 3 * bh, 'gruForward gh');
  a[2] = cx.at(g.hPrev, g.hPrevOff, bh, 'gruForward hPrev'); a[3] = cx.at(g.act, g.actOff, 3 * bh, 'gruForward act');
  a[4] = cx.at(g.h, g.hOff, bh, 'gruForward h'); a[5] = g.batch; a[6] = g.hidden;
  cx.exec(Op.GruForward, g.batch > 1 ? bh : 0, PAR_CELLS);
}

export function gruBackward(cx: Ctx, g: GruBackwardArgs): void {
  checkCount(g.batch, 'batch'); checkCount(g.hidden, 'hidden');
  const bh = g.batch * g.hidden, a = cx.args();
  a[0] = cx.at(g.act, g.actOff, 3 * bh, 'gruBackward act'); a[1] = cx.at(g.gh, g.ghOff, 3 * bh, 'gruBackward gh');
  a[2] = cx.at(g.hPrev, g.hPrevOff, bh, 'gruBackward hPrev'); a[3] = cx.at(g.dh, g.dhOff, bh, 'gruBackward dh');
  a[4] = cx.at(g.dGx, g.dGxOff, 3 * bh, 'gruBackward dGx'); a[5] = cx.at(g.dGh, g.dGhOff, 3 * bh, 'gruBackward dGh');
  a[6] = cx.at(g.dhPrev, g.dhPrevOff, bh, 'gruBackward dhPrev'); a[7] = g.batch; a[8] = g.hidden;
  cx.exec(Op.GruBackward, g.batch > 1 ? bh : 0, PAR_CELLS);
}

function scanWidth(cell: string): number {
  if (cell === 'mingru') return 2;
  if (cell === 'minlstm') return 3;
  throw new RangeError(`simd engine: minScan cell must be mingru or minlstm, got ${cell}`);
}

export function minScanForward(cx: Ctx, s: MinScanForwardArgs): void {
  checkCount(s.steps, 'steps'); checkCount(s.batch, 'batch'); checkCount(s.hidden, 'hidden');
  const w = scanWidth(s.cell), bh = s.batch * s.hidden, a = cx.args();
  a[0] = w === 3 ? 1 : 0;
  a[1] = cx.at(s.proj, s.projOff, s.steps * w * bh, 'minScanForward proj');
  a[2] = cx.at(s.act, s.actOff, s.steps * w * bh, 'minScanForward act');
  a[3] = cx.at(s.h, s.hOff, (s.steps + 1) * bh, 'minScanForward h');
  a[4] = s.steps; a[5] = s.batch; a[6] = s.hidden;
  cx.exec(Op.MinScanForward, s.batch > 1 ? s.steps * bh : 0, PAR_CELLS);
}

export function minScanBackward(cx: Ctx, s: MinScanBackwardArgs): void {
  checkCount(s.steps, 'steps'); checkCount(s.batch, 'batch'); checkCount(s.hidden, 'hidden');
  const w = scanWidth(s.cell), bh = s.batch * s.hidden, a = cx.args();
  a[0] = w === 3 ? 1 : 0;
  a[1] = cx.at(s.proj, s.projOff, s.steps * w * bh, 'minScanBackward proj');
  a[2] = cx.at(s.act, s.actOff, s.steps * w * bh, 'minScanBackward act');
  a[3] = cx.at(s.h, s.hOff, (s.steps + 1) * bh, 'minScanBackward h');
  a[4] = cx.at(s.dh, s.dhOff, s.steps * bh, 'minScanBackward dh');
  a[5] = cx.at(s.dProj, s.dProjOff, s.steps * w * bh, 'minScanBackward dProj');
  a[6] = s.steps; a[7] = s.batch; a[8] = s.hidden;
  cx.exec(Op.MinScanBackward, s.batch > 1 ? s.steps * bh : 0, PAR_CELLS);
}

export function rmsNormForward(cx: Ctx, r: RmsNormArgs): void {
  checkCount(r.rows, 'rows'); checkCount(r.cols, 'cols');
  const a = cx.args();
  a[0] = cx.at(r.x, r.xOff, r.rows * r.cols, 'rmsNormForward x'); a[1] = cx.at(r.w, r.wOff, r.cols, 'rmsNormForward w');
  a[2] = cx.at(r.out, r.outOff, r.rows * r.cols, 'rmsNormForward out'); a[3] = cx.at(r.rstd, r.rstdOff, r.rows, 'rmsNormForward rstd');
  a[4] = r.rows; a[5] = r.cols; a[6] = r.eps;
  cx.exec(Op.RmsNormForward, r.rows > 1 ? r.rows * r.cols : 0, PAR_FLOATS / 4);
}

export function rmsNormBackward(cx: Ctx, r: RmsNormBackwardArgs): void {
  checkCount(r.rows, 'rows'); checkCount(r.cols, 'cols');
  const n = r.rows * r.cols;
  const x = cx.at(r.x, r.xOff, n, 'rmsNormBackward x'), w = cx.at(r.w, r.wOff, r.cols, 'rmsNormBackward w');
  const rstd = cx.at(r.rstd, r.rstdOff, r.rows, 'rmsNormBackward rstd'), dOut = cx.at(r.dOut, r.dOutOff, n, 'rmsNormBackward dOut');
  const dx = cx.at(r.dx, r.dxOff, n, 'rmsNormBackward dx'), dw = cx.at(r.dw, r.dwOff, r.cols, 'rmsNormBackward dw');
  let a = cx.args();
  a[0] = x; a[1] = w; a[2] = rstd; a[3] = dOut; a[4] = dx; a[5] = r.rows; a[6] = r.cols;
  cx.exec(Op.RmsNormBackwardDx, r.rows > 1 ? n : 0, PAR_FLOATS / 4);
  a = cx.args();
  a[0] = x; a[1] = rstd; a[2] = dOut; a[3] = dw; a[4] = r.rows; a[5] = r.cols;
  cx.exec(Op.RmsNormBackwardDw, r.cols >= 16 ? n : 0, PAR_FLOATS);
}
