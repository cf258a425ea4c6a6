// Recurrent cells, normalization and activations. Arguments arrive checked (../op-layer.ts).
import type {
  GeluBackwardArgs, GeluForwardArgs, GruBackwardArgs, GruForwardArgs, LstmBackwardArgs, LstmForwardArgs, MinScanBackwardArgs, MinScanForwardArgs,
  RmsNormArgs, RmsNormBackwardArgs, TanhBackwardArgs, UnaryArgs,
} from '../engine-api.js';
import type { Checked } from '../op-layer.js';
import { type Ctx, PAR_CELLS, PAR_FLOATS } from './context.js';
import {
  ActBackwardArg, GruBackwardArg, GruForwardArg, LstmBackwardArg, LstmForwardArg, MinScanArg, Op, RmsNormBackwardDwArg,
  RmsNormBackwardDxArg, RmsNormForwardArg, UnaryArg,
} from './op-table.js';

/** Transcendental pointwise ops cost ~10× a copy per element, hence the lower threshold. */
const PAR_ACT = PAR_FLOATS / 8;

export function unary(cx: Ctx, op: Op, u: Checked<UnaryArgs>): void {
  const a = cx.args();
  a[UnaryArg.Out] = cx.ptr(u.out, u.outOff); a[UnaryArg.X] = cx.ptr(u.x, u.xOff); a[UnaryArg.Len] = u.len; a[UnaryArg.E] = 0;
  cx.exec(op, u.len, PAR_ACT);
}

export function geluForward(cx: Ctx, u: Checked<GeluForwardArgs>): void {
  const a = cx.args();
  a[UnaryArg.Out] = cx.ptr(u.out, u.outOff); a[UnaryArg.X] = cx.ptr(u.x, u.xOff); a[UnaryArg.Len] = u.len;
  a[UnaryArg.E] = u.e ? cx.ptr(u.e, u.eOff) : 0;
  cx.exec(Op.GeluForward, u.len, PAR_ACT);
}

export function tanhBackward(cx: Ctx, b: Checked<TanhBackwardArgs>): void {
  actBackward(cx, Op.TanhBackward, cx.ptr(b.dx, b.dxOff), cx.ptr(b.y, b.yOff), cx.ptr(b.dy, b.dyOff), b.len, 0);
}

export function geluBackward(cx: Ctx, b: Checked<GeluBackwardArgs>): void {
  actBackward(cx, Op.GeluBackward, cx.ptr(b.dx, b.dxOff), cx.ptr(b.x, b.xOff), cx.ptr(b.dy, b.dyOff), b.len,
    b.e ? cx.ptr(b.e, b.eOff) : 0);
}

/** `e`: gelu's kept exp(−2u) (0: none, and for tanh). */
function actBackward(cx: Ctx, op: Op, dx: number, input: number, dy: number, len: number, e: number): void {
  const a = cx.args();
  a[ActBackwardArg.Dx] = dx; a[ActBackwardArg.Input] = input; a[ActBackwardArg.Dy] = dy; a[ActBackwardArg.Len] = len;
  a[ActBackwardArg.E] = e;
  cx.exec(op, len, PAR_ACT);
}

export function lstmForward(cx: Ctx, l: Checked<LstmForwardArgs>): void {
  const bh = l.batch * l.hidden, a = cx.args();
  a[LstmForwardArg.Pre] = cx.ptr(l.pre, l.preOff); a[LstmForwardArg.Act] = cx.ptr(l.act, l.actOff);
  a[LstmForwardArg.CPrev] = cx.ptr(l.cPrev, l.cPrevOff); a[LstmForwardArg.C] = cx.ptr(l.c, l.cOff);
  a[LstmForwardArg.H] = cx.ptr(l.h, l.hOff); a[LstmForwardArg.Batch] = l.batch; a[LstmForwardArg.Hidden] = l.hidden;
  cx.exec(Op.LstmForward, l.batch > 1 ? bh : 0, PAR_CELLS);
}

export function lstmBackward(cx: Ctx, l: Checked<LstmBackwardArgs>): void {
  const bh = l.batch * l.hidden, a = cx.args();
  a[LstmBackwardArg.Act] = cx.ptr(l.act, l.actOff); a[LstmBackwardArg.CPrev] = cx.ptr(l.cPrev, l.cPrevOff);
  a[LstmBackwardArg.C] = cx.ptr(l.c, l.cOff); a[LstmBackwardArg.Dh] = cx.ptr(l.dh, l.dhOff);
  a[LstmBackwardArg.DcNext] = cx.ptr(l.dcNext, l.dcNextOff); a[LstmBackwardArg.DPre] = cx.ptr(l.dPre, l.dPreOff);
  a[LstmBackwardArg.DcPrev] = cx.ptr(l.dcPrev, l.dcPrevOff); a[LstmBackwardArg.Batch] = l.batch; a[LstmBackwardArg.Hidden] = l.hidden;
  cx.exec(Op.LstmBackward, l.batch > 1 ? bh : 0, PAR_CELLS);
}

export function gruForward(cx: Ctx, g: Checked<GruForwardArgs>): void {
  const bh = g.batch * g.hidden, a = cx.args();
  a[GruForwardArg.Gx] = cx.ptr(g.gx, g.gxOff); a[GruForwardArg.Gh] = cx.ptr(g.gh, g.ghOff);
  a[GruForwardArg.HPrev] = cx.ptr(g.hPrev, g.hPrevOff); a[GruForwardArg.Act] = cx.ptr(g.act, g.actOff);
  a[GruForwardArg.H] = cx.ptr(g.h, g.hOff); a[GruForwardArg.Batch] = g.batch; a[GruForwardArg.Hidden] = g.hidden;
  cx.exec(Op.GruForward, g.batch > 1 ? bh : 0, PAR_CELLS);
}

export function gruBackward(cx: Ctx, g: Checked<GruBackwardArgs>): void {
  const bh = g.batch * g.hidden, a = cx.args();
  a[GruBackwardArg.Act] = cx.ptr(g.act, g.actOff); a[GruBackwardArg.Gh] = cx.ptr(g.gh, g.ghOff);
  a[GruBackwardArg.HPrev] = cx.ptr(g.hPrev, g.hPrevOff); a[GruBackwardArg.Dh] = cx.ptr(g.dh, g.dhOff);
  a[GruBackwardArg.DGx] = cx.ptr(g.dGx, g.dGxOff); a[GruBackwardArg.DGh] = cx.ptr(g.dGh, g.dGhOff);
  a[GruBackwardArg.DhPrev] = cx.ptr(g.dhPrev, g.dhPrevOff); a[GruBackwardArg.Batch] = g.batch; a[GruBackwardArg.Hidden] = g.hidden;
  cx.exec(Op.GruBackward, g.batch > 1 ? bh : 0, PAR_CELLS);
}

function scanArgs(cx: Ctx, s: Checked<MinScanBackwardArgs> | Checked<MinScanForwardArgs>): Float64Array {
  const a = cx.args();
  a[MinScanArg.MinLstm] = s.cell === 'minlstm' ? 1 : 0;
  a[MinScanArg.Proj] = cx.ptr(s.proj, s.projOff); a[MinScanArg.Act] = cx.ptr(s.act, s.actOff); a[MinScanArg.H] = cx.ptr(s.h, s.hOff);
  a[MinScanArg.Steps] = s.steps; a[MinScanArg.Batch] = s.batch; a[MinScanArg.Hidden] = s.hidden;
  return a;
}

export function minScanForward(cx: Ctx, s: Checked<MinScanForwardArgs>): void {
  const a = scanArgs(cx, s);
  // The op layer has checked that residual and sum come together.
  a[MinScanArg.Residual] = s.residual ? cx.ptr(s.residual, s.residualOff) : 0;
  a[MinScanArg.Sum] = s.sum ? cx.ptr(s.sum, s.sumOff) : 0;
  cx.exec(Op.MinScanForward, s.batch > 1 ? s.steps * s.batch * s.hidden : 0, PAR_CELLS);
}

export function minScanBackward(cx: Ctx, s: Checked<MinScanBackwardArgs>): void {
  const a = scanArgs(cx, s);
  a[MinScanArg.Dh] = cx.ptr(s.dh, s.dhOff); a[MinScanArg.DProj] = cx.ptr(s.dProj, s.dProjOff);
  cx.exec(Op.MinScanBackward, s.batch > 1 ? s.steps * s.batch * s.hidden : 0, PAR_CELLS);
}

export function rmsNormForward(cx: Ctx, r: Checked<RmsNormArgs>): void {
  const a = cx.args();
  a[RmsNormForwardArg.X] = cx.ptr(r.x, r.xOff); a[RmsNormForwardArg.W] = cx.ptr(r.w, r.wOff);
  a[RmsNormForwardArg.Out] = cx.ptr(r.out, r.outOff); a[RmsNormForwardArg.Rstd] = cx.ptr(r.rstd, r.rstdOff);
  a[RmsNormForwardArg.Rows] = r.rows; a[RmsNormForwardArg.Cols] = r.cols; a[RmsNormForwardArg.Eps] = r.eps;
  cx.exec(Op.RmsNormForward, r.rows > 1 ? r.rows * r.cols : 0, PAR_FLOATS / 4);
}

export function rmsNormBackward(cx: Ctx, r: Checked<RmsNormBackwardArgs>): void {
  const n = r.rows * r.cols;
  const x = cx.ptr(r.x, r.xOff), rstd = cx.ptr(r.rstd, r.rstdOff), dOut = cx.ptr(r.dOut, r.dOutOff);
  let a = cx.args();
  a[RmsNormBackwardDxArg.X] = x; a[RmsNormBackwardDxArg.W] = cx.ptr(r.w, r.wOff); a[RmsNormBackwardDxArg.Rstd] = rstd;
  const dx = cx.ptr(r.dx, r.dxOff);
  a[RmsNormBackwardDxArg.DOut] = dOut; a[RmsNormBackwardDxArg.Dx] = dx;
  a[RmsNormBackwardDxArg.Base] = r.residual ? cx.ptr(r.residual, r.residualOff) : dx;
  a[RmsNormBackwardDxArg.Rows] = r.rows; a[RmsNormBackwardDxArg.Cols] = r.cols;
  cx.exec(Op.RmsNormBackwardDx, r.rows > 1 ? n : 0, PAR_FLOATS / 4);
  a = cx.args();
  a[RmsNormBackwardDwArg.X] = x; a[RmsNormBackwardDwArg.Rstd] = rstd; a[RmsNormBackwardDwArg.DOut] = dOut;
  a[RmsNormBackwardDwArg.Dw] = cx.ptr(r.dw, r.dwOff); a[RmsNormBackwardDwArg.Rows] = r.rows; a[RmsNormBackwardDwArg.Cols] = r.cols;
  cx.exec(Op.RmsNormBackwardDw, r.cols >= 16 ? n : 0, PAR_FLOATS);
}
