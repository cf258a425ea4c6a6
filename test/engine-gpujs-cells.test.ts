// The gpu.js engine's pointwise activations, GRU cell, minimal gated scans and RMSNorm against
// the reference `js` engine (src/engine/js), in gpu.js's cpu and webasm modes and through the
// device-storage path (on gpu.js's cpu mode: there kernels see whole tensors and real offsets,
// while the host modes hand each kernel a view at offset 0, so only that path tests offsets).
//
// Every op runs on identical data in both engines; every tensor the op touches is padded on both
// sides with random values and compared whole, so a write outside an output range, a changed
// input or a missed accumulation fails too.
//
// Tolerance: within 1e-5 relative plus 1e-6 absolute. Where a result is a sum or difference that
// can cancel (accumulated gradients, the scans, GRU's h, RMSNorm's gradients), "relative" is to
// the sum of the magnitudes of the terms (computed here in float64), since float32 rounding error
// scales with that, not with the possibly tiny result.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import gpujs from 'gpu.js';
import type { Engine, Tensor } from '../src/engine/engine.js';
import { DeviceBackend } from '../src/engine/gpujs/device.js';
import { checkedEngine } from '../src/engine/checked.js';
import { GpuJsEngine, MAX_PASS } from '../src/engine/gpujs/engine.js';
import { createGpuJsEngine } from '../src/engine/gpujs/index.js';
import { createJsEngine } from '../src/engine/js/engine.js';
import { gpuModes } from './engines.js';
import { failOnConsoleOutput, prng, randoms } from './support.js';

const TOL = 1e-5;
const ABS = 1e-6;


/** got[i] ≈ want[i] within TOL × bound[i] + ABS (bound defaults to |want|). */
function expectClose(what: string, got: Float32Array, want: ArrayLike<number>, bound?: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const limit = TOL * Math.max(Math.abs(want[i]!), bound ? Math.abs(bound[i]!) : 0) + ABS;
    if (!(Math.abs(got[i]! - want[i]!) <= limit)) {
      throw new Error(`${what}[${i}]: got ${got[i]}, want ${want[i]} (allowed error ${limit})`);
    }
  }
}

const sig = (x: number): number => 1 / (1 + Math.exp(-x));
/** A js-engine tensor's contents, synchronously (its tensors are plain Float32Arrays). */
const jsData = (t: Tensor): Float32Array => (t as unknown as { data: Float32Array }).data.slice();

failOnConsoleOutput();

const cpuVariants = [
  { label: 'cpu', make: () => createGpuJsEngine('cpu') },
  { label: 'webasm', make: () => createGpuJsEngine('webasm') },
  {
    label: 'cpu through the device-storage path',
    make: async (): Promise<Engine> => checkedEngine(new GpuJsEngine('cpu', new DeviceBackend(new gpujs.GPU({ mode: 'cpu' }), 'cpu'))),
  },
] as const;
// scripts/test-gpu.sh sets CHARNN_GPU_MODES: the same op checks then run on real device storage.
const variants = gpuModes.length
  ? gpuModes.map((m) => ({ label: m, make: () => createGpuJsEngine(m) }))
  : cpuVariants;

/** A tensor's contents in the test: `data` sits at offset `off` with random padding around it. */
interface Slot {
  init: Float32Array;
  off: number;
}

type Slots = Record<string, Slot>;
type Results = Record<string, Float32Array>;

describe.each(variants)('gpu.js cell ops: $label', ({ make }) => {
  let e: Engine;
  const js = createJsEngine();
  const rng = prng(20240611);

  beforeAll(async () => {
    e = await make();
  });
  afterAll(() => e.dispose());

  /** data with 1–3 random floats of padding before and after it. */
  function slot(data: Float32Array): Slot {
    const before = 1 + Math.floor(rng() * 3), after = 1 + Math.floor(rng() * 3);
    const init = randoms(rng, before + data.length + after, 5);
    init.set(data, before);
    return { init, off: before };
  }

  /**
   * Runs `op` on identical tensors in the js engine and in the engine under test, and returns
   * both engines' final contents of every tensor. `alias` makes names share another's tensor.
   */
  async function both(
    slots: Slots,
    op: (eng: Engine, t: Record<string, Tensor>, off: Record<string, number>) => void,
    alias: Record<string, string> = {},
  ): Promise<{ got: Results; want: Results }> {
    const results: Results[] = [];
    for (const eng of [e, js]) {
      const t: Record<string, Tensor> = {};
      const off: Record<string, number> = {};
      for (const [name, s] of Object.entries(slots)) {
        t[name] = eng.tensor(s.init.length);
        eng.write(t[name]!, s.init);
        off[name] = s.off;
      }
      for (const [name, target] of Object.entries(alias)) {
        t[name] = t[target]!;
        off[name] = off[target]!;
      }
      op(eng, t, off);
      const r: Results = {};
      for (const name of Object.keys(slots)) r[name] = await eng.read(t[name]!);
      results.push(r);
    }
    return { got: results[0]!, want: results[1]! };
  }

  /** Compares every tensor; bounds (for the data part of a slot) where cancellation can occur. */
  function compare(slots: Slots, { got, want }: { got: Results; want: Results }, bounds: Record<string, ArrayLike<number>> = {}): void {
    for (const name of Object.keys(slots)) {
      const b = bounds[name];
      let full: Float64Array | undefined;
      if (b) {
        full = Float64Array.from(want[name]!, Math.abs);
        for (let i = 0; i < b.length; i++) full[slots[name]!.off + i] = b[i]!;
      }
      expectClose(name, got[name]!, want[name]!, full);
    }
  }

  // ----------------------------------------------------------------------------------- pointwise

  const LEN = 37;
  /**
   * Values that hit the clamps and exp overflow: ±60 makes an unclamped GLSL tanh NaN, and ±1e20
   * overflows x² (and x³) in float32.
   */
  const EXTREMES = [0, -0.75, 4.5, -4.5, 9, -9, 30, -30, 60, -200, 1e4, -1e4, 1e20, -1e20];
  function pointwiseInput(scale: number): Float32Array {
    const x = randoms(rng, LEN, scale);
    x.set(EXTREMES, LEN - EXTREMES.length);
    return x;
  }

  it('add', async () => {
    const s = { a: slot(randoms(rng, LEN)), b: slot(randoms(rng, LEN)), out: slot(randoms(rng, LEN)) };
    const r = await both(s, (g, t, o) => g.add({ out: t.out!, outOff: o.out!, a: t.a!, aOff: o.a!, b: t.b!, bOff: o.b!, len: LEN }));
    const a = s.a.init.subarray(s.a.off), b = s.b.init.subarray(s.b.off);
    compare(s, r, { out: Array.from({ length: LEN }, (_, i) => Math.abs(a[i]!) + Math.abs(b[i]!)) });
  });

  it('add in place (out is a, and out is b)', async () => {
    const s = { a: slot(randoms(rng, LEN)), b: slot(randoms(rng, LEN)) };
    const a = s.a.init.subarray(s.a.off), b = s.b.init.subarray(s.b.off);
    const bound = { a: Array.from({ length: LEN }, (_, i) => Math.abs(a[i]!) + Math.abs(b[i]!)) };
    const r = await both(s, (g, t, o) => g.add({ out: t.a!, outOff: o.a!, a: t.a!, aOff: o.a!, b: t.b!, bOff: o.b!, len: LEN }));
    compare(s, r, bound);
    const r2 = await both(s, (g, t, o) => g.add({ out: t.a!, outOff: o.a!, a: t.b!, aOff: o.b!, b: t.a!, bOff: o.a!, len: LEN }));
    compare(s, r2, bound);
  });

  it('tanhForward, including inputs that overflow an unclamped tanh', async () => {
    const s = { x: slot(pointwiseInput(3)), out: slot(new Float32Array(LEN)) };
    compare(s, await both(s, (g, t, o) => g.tanhForward({ out: t.out!, outOff: o.out!, x: t.x!, xOff: o.x!, len: LEN })));
  });

  for (const inPlace of [false, true]) {
    it(`tanhBackward${inPlace ? ' in place (dx is dy)' : ''}`, async () => {
      const y = Float32Array.from(randoms(rng, LEN), (v) => Math.tanh(3 * v));
      const s: Slots = { y: slot(y), dy: slot(randoms(rng, LEN)) };
      if (!inPlace) s.dx = slot(randoms(rng, LEN));
      const r = await both(
        s,
        (g, t, o) => g.tanhBackward({ dx: t.dx!, dxOff: o.dx!, y: t.y!, yOff: o.y!, dy: t.dy!, dyOff: o.dy!, len: LEN }),
        inPlace ? { dx: 'dy' } : {},
      );
      compare(s, r);
    });
  }

  it('geluForward, including large and very negative inputs', async () => {
    const s = { x: slot(pointwiseInput(4)), out: slot(new Float32Array(LEN)) };
    compare(s, await both(s, (g, t, o) => g.geluForward({ out: t.out!, outOff: o.out!, x: t.x!, xOff: o.x!, len: LEN })));
  });

  for (const inPlace of [false, true]) {
    it(`geluBackward${inPlace ? ' in place (dx is dy)' : ''}`, async () => {
      const x = pointwiseInput(4), dy = randoms(rng, LEN);
      const s: Slots = { x: slot(x), dy: slot(dy) };
      if (!inPlace) s.dx = slot(randoms(rng, LEN));
      const r = await both(
        s,
        (g, t, o) => g.geluBackward({ dx: t.dx!, dxOff: o.dx!, x: t.x!, xOff: o.x!, dy: t.dy!, dyOff: o.dy!, len: LEN }),
        inPlace ? { dx: 'dy' } : {},
      );
      // gelu' = σ(2u) + 2c·σ(2u)σ(−2u)·x(1 + 0.134145x²) changes sign: bound by both terms.
      const c = Math.sqrt(2 / Math.PI);
      const bound = Array.from(x, (v, i) => {
        const u = c * (v + 0.044715 * v ** 3), sp = sig(2 * u), sn = sig(-2 * u);
        return Math.abs(dy[i]!) * (sp + Math.abs(2 * c * sp * sn * v * (1 + 0.134145 * v * v)));
      });
      compare(s, r, { [inPlace ? 'dy' : 'dx']: bound });
    });
  }

  it('pointwise ops split lengths over one kernel pass, in place', async () => {
    const len = MAX_PASS + 7;
    const y = randoms(rng, len), dy = randoms(rng, len);
    const s = { y: { init: y, off: 0 }, dy: { init: dy, off: 0 } };
    compare(s, await both(s, (g, t) => g.tanhBackward({ dx: t.dy!, dxOff: 2, y: t.y!, yOff: 1, dy: t.dy!, dyOff: 2, len: len - 2 })));
  });

  // ----------------------------------------------------------------------------------------- GRU

  const B = 3, H = 5;

  it('gruForward', async () => {
    const gx = randoms(rng, B * 3 * H, 3), gh = randoms(rng, B * 3 * H, 3), hPrev = randoms(rng, B * H, 2);
    gx[2 * H] = 40; // tanh(40 + r·gh) must give 1, not NaN
    gx[3 * H + 2 * H + 1] = -70;
    const s = { gx: slot(gx), gh: slot(gh), hPrev: slot(hPrev), act: slot(new Float32Array(B * 3 * H)), h: slot(new Float32Array(B * H)) };
    const r = await both(s, (g, t, o) =>
      g.gruForward({
        gx: t.gx!, gxOff: o.gx, gh: t.gh!, ghOff: o.gh, hPrev: t.hPrev!, hPrevOff: o.hPrev,
        act: t.act!, actOff: o.act, h: t.h!, hOff: o.h, batch: B, hidden: H,
      }),
    );
    // h = (1 − z)·n + z·hPrev can cancel.
    const act = r.want.act!.subarray(s.act.off);
    const bound = Array.from({ length: B * H }, (_, i) => {
      const b = Math.floor(i / H), j = i % H, z = act[b * 3 * H + H + j]!, n = act[b * 3 * H + 2 * H + j]!;
      return Math.abs((1 - z) * n) + Math.abs(z * hPrev[i]!);
    });
    compare(s, r, { h: bound });
  });

  it('gruBackward accumulates into dhPrev', async () => {
    const act = Float32Array.from({ length: B * 3 * H }, (_, i) => (i % (3 * H) < 2 * H ? rng() : 2 * rng() - 1));
    const gh = randoms(rng, B * 3 * H, 2), hPrev = randoms(rng, B * H, 2), dh = randoms(rng, B * H);
    const dhPrev0 = randoms(rng, B * H);
    const s = {
      act: slot(act), gh: slot(gh), hPrev: slot(hPrev), dh: slot(dh),
      dGx: slot(randoms(rng, B * 3 * H)), dGh: slot(randoms(rng, B * 3 * H)), dhPrev: slot(dhPrev0),
    };
    const r = await both(s, (g, t, o) =>
      g.gruBackward({
        act: t.act!, actOff: o.act, gh: t.gh!, ghOff: o.gh, hPrev: t.hPrev!, hPrevOff: o.hPrev, dh: t.dh!, dhOff: o.dh,
        dGx: t.dGx!, dGxOff: o.dGx, dGh: t.dGh!, dGhOff: o.dGh, dhPrev: t.dhPrev!, dhPrevOff: o.dhPrev, batch: B, hidden: H,
      }),
    );
    const bound = Array.from({ length: B * H }, (_, i) => {
      const b = Math.floor(i / H), j = i % H;
      return Math.abs(dhPrev0[i]!) + Math.abs(dh[i]! * act[b * 3 * H + H + j]!);
    });
    // dz_pre = dh·(hPrev − n)·z(1 − z) can cancel inside (hPrev − n).
    const dzBound = new Float64Array(B * 3 * H);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < H; j++) {
        const q = b * 3 * H + j, z = act[q + H]!, n = act[q + 2 * H]!;
        for (const gate of [0, 2]) dzBound[q + gate * H] = Math.abs(r.want.dGx![s.dGx.off + q + gate * H]!);
        dzBound[q + H] = Math.abs(dh[b * H + j]!) * (Math.abs(hPrev[b * H + j]!) + Math.abs(n)) * z * (1 - z);
      }
    }
    compare(s, r, { dhPrev: bound, dGx: dzBound, dGh: dzBound.map((v, i) => (i % (3 * H) < 2 * H ? v : Math.abs(r.want.dGh![s.dGh.off + i]!))) });
  });

  // ---------------------------------------------------------------------------- minGRU / minLSTM

  for (const cell of ['mingru', 'minlstm'] as const) {
    for (const [steps, batch, hidden] of [[7, 3, 5], [1, 2, 4]] as const) {
      const k = cell === 'mingru' ? 2 : 3;
      const rowLen = batch * k * hidden, g = batch * hidden;

      /** A forward pass in the js engine: proj, act and h (slot 0 the carried-in state). */
      function forwardData(): { proj: Float32Array; act: Float32Array; h: Float32Array } {
        const proj = randoms(rng, steps * rowLen, 3);
        proj[0] = 30; // g(u) and σ well outside their usual range
        proj[rowLen - 1] = -30;
        const h = new Float32Array((steps + 1) * g);
        h.set(randoms(rng, g, 2));
        const act = new Float32Array(steps * rowLen);
        const t = { proj: js.tensor(proj.length), act: js.tensor(act.length), h: js.tensor(h.length) };
        js.write(t.proj, proj);
        js.write(t.h, h);
        js.minScanForward({ cell, proj: t.proj, act: t.act, h: t.h, steps, batch, hidden });
        return { proj, act: jsData(t.act), h: jsData(t.h) };
      }

      /** a and coef for element (t, b, j) from activations: h_t = a·h_{t−1} + coef·u. */
      function gates(act: Float32Array, t: number, b: number, j: number): { a: number; c: number; u: number } {
        const q = (t * batch + b) * k * hidden + j;
        const u = act[q + (k - 1) * hidden]!;
        return cell === 'mingru' ? { a: 1 - act[q]!, c: act[q]!, u } : { a: act[q]!, c: act[q + hidden]!, u };
      }

      it(`minScanForward ${cell} steps=${steps} batch=${batch} hidden=${hidden}`, async () => {
        const { proj, h } = forwardData();
        const h0 = h.subarray(0, g);
        const s = { proj: slot(proj), act: slot(randoms(rng, steps * rowLen)), h: slot(Float32Array.from({ length: h.length }, (_, i) => (i < g ? h0[i]! : rng()))) };
        const r = await both(s, (eng, t, o) =>
          eng.minScanForward({ cell, proj: t.proj!, projOff: o.proj, act: t.act!, actOff: o.act, h: t.h!, hOff: o.h, steps, batch, hidden }),
        );
        // |h_t| ≤ a·|h_{t−1}| + coef·u: float32 error scales with that, whatever cancels.
        const act = r.want.act!.subarray(s.act.off);
        const bound = new Float64Array((steps + 1) * g);
        for (let i = 0; i < g; i++) bound[i] = Math.abs(h0[i]!);
        for (let t = 0; t < steps; t++) {
          for (let i = 0; i < g; i++) {
            const { a, c, u } = gates(act, t, Math.floor(i / hidden), i % hidden);
            bound[(t + 1) * g + i] = a * bound[t * g + i]! + c * Math.abs(u);
          }
        }
        compare(s, r, { h: bound });
      });

      it(`minScanBackward ${cell} steps=${steps} batch=${batch} hidden=${hidden}`, async () => {
        const { proj, act, h } = forwardData();
        const dh = randoms(rng, steps * g);
        const s = { proj: slot(proj), act: slot(act), h: slot(h), dh: slot(dh), dProj: slot(randoms(rng, steps * rowLen)) };
        const r = await both(s, (eng, t, o) =>
          eng.minScanBackward({
            cell, proj: t.proj!, projOff: o.proj, act: t.act!, actOff: o.act, h: t.h!, hOff: o.h,
            dh: t.dh!, dhOff: o.dh, dProj: t.dProj!, dProjOff: o.dProj, steps, batch, hidden,
          }),
        );
        // The gradient reaching h_t, G_t = dh_t + a_{t+1}·G_{t+1}, can cancel, and so can
        // (u − hPrev): bound each dProj element with |G| → Σ magnitudes and |u| + |hPrev|.
        const bound = new Float64Array(steps * rowLen);
        for (let b = 0; b < batch; b++) {
          for (let j = 0; j < hidden; j++) {
            let gb = 0;
            for (let t = steps - 1; t >= 0; t--) {
              gb = Math.abs(dh[t * g + b * hidden + j]!) + (t < steps - 1 ? gates(act, t + 1, b, j).a * gb : 0);
              const { a, c, u } = gates(act, t, b, j);
              const q = (t * batch + b) * k * hidden + j;
              const pu = proj[q + (k - 1) * hidden]!;
              const diff = Math.abs(u) + Math.abs(h[t * g + b * hidden + j]!);
              bound[q + (k - 1) * hidden] = gb * c * (pu >= 0 ? 1 : sig(pu) * (1 - sig(pu)));
              if (cell === 'mingru') {
                bound[q] = gb * diff * c * (1 - c);
              } else {
                bound[q] = gb * diff * a * c * (1 - sig(proj[q]!));
                bound[q + hidden] = gb * diff * a * c * (1 - sig(proj[q + hidden]!));
              }
            }
          }
        }
        compare(s, r, { dProj: bound });
      });
    }
  }

  // ------------------------------------------------------------------------------------- RMSNorm

  const ROWS = 7, COLS = 13, EPS = 1e-5;

  it('rmsNormForward', async () => {
    const x = randoms(rng, ROWS * COLS, 2);
    x.fill(0, 2 * COLS, 3 * COLS); // an all-zero row: rstd = 1/sqrt(eps)
    const s = { x: slot(x), w: slot(randoms(rng, COLS, 1.5)), out: slot(randoms(rng, ROWS * COLS)), rstd: slot(randoms(rng, ROWS)) };
    compare(s, await both(s, (g, t, o) =>
      g.rmsNormForward({ x: t.x!, xOff: o.x, w: t.w!, wOff: o.w, out: t.out!, outOff: o.out, rstd: t.rstd!, rstdOff: o.rstd, rows: ROWS, cols: COLS, eps: EPS }),
    ));
  });

  it('rmsNormBackward accumulates into dx and dw', async () => {
    const x = randoms(rng, ROWS * COLS, 2), w = randoms(rng, COLS, 1.5), dOut = randoms(rng, ROWS * COLS);
    const rstd = Float32Array.from({ length: ROWS }, (_, r) => {
      let ss = 0;
      for (let j = 0; j < COLS; j++) ss += x[r * COLS + j]! ** 2;
      return 1 / Math.sqrt(ss / COLS + EPS);
    });
    const dx0 = randoms(rng, ROWS * COLS), dw0 = randoms(rng, COLS);
    const s = { x: slot(x), w: slot(w), rstd: slot(rstd), dOut: slot(dOut), dx: slot(dx0), dw: slot(dw0) };
    const r = await both(s, (g, t, o) =>
      g.rmsNormBackward({
        x: t.x!, xOff: o.x, w: t.w!, wOff: o.w, rstd: t.rstd!, rstdOff: o.rstd, dOut: t.dOut!, dOutOff: o.dOut,
        dx: t.dx!, dxOff: o.dx, dw: t.dw!, dwOff: o.dw, rows: ROWS, cols: COLS,
      }),
    );
    const dxBound = new Float64Array(ROWS * COLS), dwBound = Float64Array.from(dw0, Math.abs);
    for (let i = 0; i < ROWS; i++) {
      let dot = 0;
      for (let j = 0; j < COLS; j++) dot += Math.abs(x[i * COLS + j]! * w[j]! * dOut[i * COLS + j]!);
      const rs = rstd[i]!, kb = (rs * rs * dot) / COLS;
      for (let j = 0; j < COLS; j++) {
        const q = i * COLS + j;
        dxBound[q] = Math.abs(dx0[q]!) + rs * (Math.abs(w[j]! * dOut[q]!) + Math.abs(x[q]!) * kb);
        dwBound[j]! += Math.abs(dOut[q]! * x[q]! * rs);
      }
    }
    compare(s, r, { dx: dxBound, dw: dwBound });
  });
});
