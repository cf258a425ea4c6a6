// Argument checks every engine's inference ops share, so a bad id or a wrong-sized buffer is a
// clear RangeError before any kernel indexes memory with it.
import type { InferModel, InferPlan } from './engine-api.js';

const count = (n: number, min: number): boolean => Number.isInteger(n) && n >= min;

export function checkInferModel(m: InferModel, streams: number): void {
  if (!['lstm', 'gru', 'rnn', 'mingru', 'minlstm'].includes(m.cell)) throw new RangeError(`inferPrepare: unknown cell ${m.cell}`);
  for (const [k, min] of [['vocab', 1], ['embed', 1], ['hidden', 1], ['layers', 1], ['mlp', 0]] as const) {
    if (!count(m[k], min)) throw new RangeError(`inferPrepare: ${k} must be an integer ≥ ${min}, got ${m[k]}`);
  }
  const zo = m.zoneout ?? 0;
  if (!(zo >= 0 && zo < 1) || (zo > 0 && m.cell !== 'gru')) throw new RangeError(`inferPrepare: zoneout must be in [0, 1) and only on gru, got ${zo} on ${m.cell}`);
  const residual = m.cell === 'mingru' || m.cell === 'minlstm';
  const [layout, other] = residual ? [m.residual, m.classic] : [m.classic, m.residual];
  if (!Array.isArray(layout) || layout.length !== m.layers || !Array.isArray(other) || other.length !== 0) {
    throw new RangeError(`inferPrepare: a ${m.cell} model needs ${m.layers} ${residual ? 'residual' : 'classic'} layer offsets and no ${residual ? 'classic' : 'residual'} ones`);
  }
  if (m.classic.some((o) => o.normX !== null) && m.cell !== 'gru') throw new RangeError(`inferPrepare: gateNorm is only for gru, got ${m.cell}`);
  if (!count(streams, 1)) throw new RangeError(`inferPrepare: streams must be an integer ≥ 1, got ${streams}`);
}

export function checkIds(plan: InferPlan, ids: ArrayLike<number>): void {
  if (ids.length !== plan.streams) throw new RangeError(`inferStep: ${ids.length} ids for ${plan.streams} streams`);
  for (let s = 0; s < ids.length; s++) {
    const v = ids[s];
    if (!(v >= 0 && v < plan.vocab && Number.isInteger(v))) throw new RangeError(`inferStep: ids[${s}] = ${v} is not an id in [0, ${plan.vocab})`);
  }
}

export function checkLogitsOut(plan: InferPlan, out: Float32Array): void {
  if (out.length !== plan.streams * plan.vocab) throw new RangeError(`inferLogits: out has ${out.length} floats, need ${plan.streams * plan.vocab}`);
}

export function checkState(plan: InferPlan, state: Float32Array): void {
  if (state.length !== plan.stateSize) throw new RangeError(`inferWriteState: state has ${state.length} floats, need ${plan.stateSize}`);
}

/** Floats of recurrent state: h per layer, and c for the LSTM. */
export function stateSize(m: InferModel, streams: number): number {
  return m.layers * streams * m.hidden * (m.cell === 'lstm' ? 2 : 1);
}

/** Where each state buffer sits in the shared layout: per layer, h (n floats), then c if it has one. */
export function stateSlices<T>(h: T[], c: (T | undefined)[], n: number): [T, number][] {
  const out: [T, number][] = [];
  let o = 0;
  for (let l = 0; l < h.length; l++) {
    out.push([h[l], o]); o += n;
    const cl = c[l];
    if (cl !== undefined) { out.push([cl, o]); o += n; }
  }
  return out;
}
