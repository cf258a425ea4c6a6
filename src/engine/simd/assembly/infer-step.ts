// One inference step of the whole model per command: embedding, every layer and the head, for S
// streams, over weights packed once by src/engine/simd/simd-infer-plan.ts. The plan is a descriptor of
// i32 words (addresses and sizes; word numbers in simd-infer-plan.ts). Matrices are packed in panels of
// 8 output columns, each panel k×8 contiguous, and gate matrices are reordered so that panel
// ug·G + g holds gate g of units [8ug, 8ug+8): a thread that owns a range of unit groups computes
// all their gates and then their cell update with no exchange, so threads meet only at one barrier
// per layer (three per residual block with an MLP). Every output element is its bias plus the
// products added in input order, one multiply and one add each, exactly as the training matmul
// does, so a stream's numbers never depend on the stream count, the thread split or the chunking.
import { share } from './kernel-layout';
import { madd } from './madd';
import { vsigmoid, vtanh } from './vmath';
import { vg, vgelu } from './pointwise';

const BAR_COUNT: usize = 1024;
const BAR_GEN: usize = 1088;

@inline function word(d: usize, i: i32): i32 { return load<i32>(d + (<usize>i << 2)); }
@inline function ptr(d: usize, i: i32): usize { return <usize><u32>load<i32>(d + (<usize>i << 2)); }
@inline function fma(a: v128, x: v128, w: v128): v128 { return madd(x, w, a); }

/**
 * Spins before sleeping: tens of microseconds, enough to cover the threads' lag at a layer's end,
 * because a thread woken from atomic.wait takes tens of microseconds more on a VM and a split step
 * that sleeps once is slower than a serial one (LSTM 2×256, split forced, alternated: 4,096 spins
 * 47-61 µs a step, 65,536 spins 38-41). On a loaded machine a spinning thread can starve the one it
 * waits for; the plan's trials (simd-infer-plan.ts) then find split steps slower and stop splitting.
 */
const SPINS: i32 = 65536;

/** All nt threads wait here until every one has arrived (a generation-counting barrier). */
function barrier(nt: i32): void {
  if (nt <= 1) return;
  const gen = atomic.load<i32>(BAR_GEN);
  if (atomic.add<i32>(BAR_COUNT, 1) == nt - 1) {
    atomic.store<i32>(BAR_COUNT, 0);
    atomic.add<i32>(BAR_GEN, 1);
    atomic.notify(BAR_GEN);
    return;
  }
  for (let i = 0; i < SPINS; i++) if (atomic.load<i32>(BAR_GEN) != gen) return;
  while (atomic.load<i32>(BAR_GEN) == gen) atomic.wait<i32>(BAR_GEN, gen, -1);
}

/**
 * One four-panel group (32 columns) for one stream: o = i + x·Wx + y·Wy (i 0: zeros), w pointing
 * at the group's first row (rows are 128 bytes apart). Eight chains, because the step is bound by
 * the multiply-add latency of each column's chain. The stores of the first four accumulators
 * inside the loop are there for V8: it issues an iteration's loads in program order but every
 * multiply-add after the last of them, so eight loads, eight accumulators and the input would need
 * seventeen xmm registers and half the accumulators went to the stack; a store must follow the
 * multiply-adds it stores, so the first four are done before the second four loads. o is written
 * again at the end, so the stores change nothing but the schedule (measured, LSTM 2×256 step on
 * one thread: 56.7 µs with six chains, 51.6 with these eight).
 */
@inline function eight(o: usize, i: usize, x: usize, kx: i32, wx: usize, y: usize, ky: i32, wy: usize): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  if (i) { a0 = v128.load(i); a1 = v128.load(i, 16); a2 = v128.load(i, 32); a3 = v128.load(i, 48); a4 = v128.load(i, 64); a5 = v128.load(i, 80); a6 = v128.load(i, 96); a7 = v128.load(i, 112); }
  // The two inputs in turn: x against Wx, then y against Wy (ky 0: none).
  for (let pass = 0; pass < 2; pass++) {
    let w = pass ? wy : wx;
    for (let p = pass ? y : x, e = p + (<usize>(pass ? ky : kx) << 2); p < e; p += 4) {
      const s = v128.load32_splat(p);
      a0 = fma(a0, s, v128.load(w)); a1 = fma(a1, s, v128.load(w, 16));
      a2 = fma(a2, s, v128.load(w, 32)); a3 = fma(a3, s, v128.load(w, 48));
      v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
      a4 = fma(a4, s, v128.load(w, 64)); a5 = fma(a5, s, v128.load(w, 80));
      a6 = fma(a6, s, v128.load(w, 96)); a7 = fma(a7, s, v128.load(w, 112));
      w += 128;
    }
  }
  v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
  v128.store(o, a4, 64); v128.store(o, a5, 80); v128.store(o, a6, 96); v128.store(o, a7, 112);
}

/**
 * Panels [q0, q1) (multiples of 4) of out = init + x·Wx + y·Wy for S streams (init 0: zeros;
 * ky 0: no second input; os, xs, ys: byte strides between streams). With iid, stream st starts
 * from its own row of a table instead, row ids[st] at init + ids[st]·is. Four panels are packed
 * interleaved, [p][32], and all streams pass over a group while it is still in cache. out must not
 * overlap x or y: eight() stores into it while it reads them.
 */
function mv(S: i32, out: usize, os: usize, init: usize, iid: usize, is: usize, x0: usize, xs: usize, kx: i32, wx: usize,
  y0: usize, ys: usize, ky: i32, wy: usize, q0: i32, q1: i32): void {
  const sx = <usize>kx << 7, sy = <usize>ky << 7;
  for (let q = q0; q < q1; q += 4) for (let st = 0; st < S; st++) {
    const qb = <usize>q << 5;
    const x = x0 + <usize>st * xs, y = y0 + <usize>st * ys;
    const i = init ? init + qb + (iid ? <usize>load<i32>(iid + (<usize>st << 2)) * is : 0) : 0;
    const o = out + <usize>st * os + qb;
    eight(o, i, x, kx, wx + <usize>(q >> 2) * sx, y, ky, wy + <usize>(q >> 2) * sy);
  }
}

/** RMSNorm of cols floats, summed exactly as assembly/rmsnorm.ts does; pads come out 0 (gains padded with 0). */
function rmsnorm(out: usize, x: usize, w: usize, cols: i32, padded: i32, eps: f32): void {
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= cols; j += 4) {
    const v = v128.load(x + (<usize>j << 2));
    acc = f32x4.add(acc, f32x4.mul(v, v));
  }
  let ss = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (; j < cols; j++) {
    const v = load<f32>(x + (<usize>j << 2));
    ss += v * v;
  }
  const rs = f32x4.splat(<f32>(1.0 / Math.sqrt(<f64>ss / <f64>cols + <f64>eps)));
  for (j = 0; j < padded; j += 4) {
    const q = <usize>j << 2;
    v128.store(out + q, f32x4.mul(f32x4.mul(v128.load(x + q), rs), v128.load(w + q)));
  }
}

// Cell updates over unit groups [u0, u1); gate g of group ug sits at pre + (ug·G + g)·32 bytes.
function lstmCells(pre: usize, c: usize, h: usize, u0: i32, u1: i32): void {
  for (let u = u0; u < u1; u++) {
    for (let v: usize = 0; v < 32; v += 16) {
      const P = pre + (<usize>u << 7) + v, q = (<usize>u << 5) + v;
      const i = vsigmoid(v128.load(P)), f = vsigmoid(v128.load(P, 32));
      const g = vtanh(v128.load(P, 64)), o = vsigmoid(v128.load(P, 96));
      const cn = f32x4.add(f32x4.mul(f, v128.load(c + q)), f32x4.mul(i, g));
      v128.store(c + q, cn);
      v128.store(h + q, f32x4.mul(o, vtanh(cn)));
    }
  }
}

/** `zp`, `zq`: zoneout's p and 1 − p (0 and 1 without it); the state is then its expectation, zq·h̃ + zp·h_{t−1}. */
function gruCells(gx: usize, gh: usize, hPrev: usize, h: usize, u0: i32, u1: i32, zp: f32, zq: f32): void {
  const one = f32x4.splat(1), pv = f32x4.splat(zp), qv = f32x4.splat(zq);
  for (let u = u0; u < u1; u++) {
    for (let v: usize = 0; v < 32; v += 16) {
      const b = <usize>u * 96 + v, q = (<usize>u << 5) + v;
      const r = vsigmoid(f32x4.add(v128.load(gx + b), v128.load(gh + b)));
      const z = vsigmoid(f32x4.add(v128.load(gx + b, 32), v128.load(gh + b, 32)));
      const n = vtanh(f32x4.add(v128.load(gx + b, 64), f32x4.mul(r, v128.load(gh + b, 64))));
      const hp = v128.load(hPrev + q);
      const next = f32x4.add(f32x4.mul(f32x4.sub(one, z), n), f32x4.mul(z, hp));
      // The same products and sum as the ops of src/engine/zoneout-state.ts, so the same bits.
      v128.store(h + q, zp == 0 ? next : f32x4.add(f32x4.mul(next, qv), f32x4.mul(hp, pv)));
    }
  }
}

/** The sum of squares of one unit group's 3 gates × 8 lanes (24 floats from p). */
@inline function sumsq24(p: usize): f32 {
  let acc = f32x4.splat(0);
  for (let v: usize = 0; v < 96; v += 16) {
    const x = v128.load(p + v);
    acc = f32x4.add(acc, f32x4.mul(x, x));
  }
  return (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
}

/** A normalised GRU's gate pre-activations over unit groups [u0, u1): p = p·rs·gain + bias, as the training ops compute them. */
function normGates(p: usize, gain: usize, bias: usize, rs: v128, u0: i32, u1: i32): void {
  for (let q = <usize>u0 * 96, e = <usize>u1 * 96; q < e; q += 16) {
    v128.store(p + q, f32x4.add(f32x4.mul(f32x4.mul(v128.load(p + q), rs), v128.load(gain + q)), v128.load(bias + q)));
  }
}

/**
 * 1/RMS of stream rows over 3H gates from the per-group partial sums at part (x then h, per group),
 * summed in group order: the same on every thread whatever the split.
 */
@inline function rstdOf(part: usize, groups: i32, which: usize, cols: f64, eps: f32): v128 {
  let ss: f32 = 0;
  for (let u = 0; u < groups; u++) ss += load<f32>(part + (<usize>u << 3) + which);
  return f32x4.splat(<f32>(1.0 / Math.sqrt(<f64>ss / cols + <f64>eps)));
}

function tanhCells(pre: usize, h: usize, u0: i32, u1: i32): void {
  for (let q = <usize>u0 << 5, e = <usize>u1 << 5; q < e; q += 16) v128.store(h + q, vtanh(v128.load(pre + q)));
}

/** The scan step h = a·h + coef·g(u), then x1 = x + h, as assembly/minscan.ts and add compute them. */
function scanCells(lstm: bool, proj: usize, h: usize, x: usize, x1: usize, u0: i32, u1: i32): void {
  const one = f32x4.splat(1);
  const G: usize = lstm ? 3 : 2;
  for (let u = u0; u < u1; u++) {
    for (let v: usize = 0; v < 32; v += 16) {
      const P = proj + <usize>u * G * 32 + v, q = (<usize>u << 5) + v;
      let a: v128, coef: v128, u_: v128;
      if (lstm) {
        const f = vsigmoid(v128.load(P)), i = vsigmoid(v128.load(P, 32));
        const s = f32x4.add(f, i);
        a = f32x4.div(f, s); coef = f32x4.div(i, s);
        u_ = vg(v128.load(P, 64));
      } else {
        const z = vsigmoid(v128.load(P));
        a = f32x4.sub(one, z); coef = z;
        u_ = vg(v128.load(P, 32));
      }
      const hv = f32x4.add(f32x4.mul(a, v128.load(h + q)), f32x4.mul(coef, u_));
      v128.store(h + q, hv);
      v128.store(x1 + q, f32x4.add(v128.load(x + q), hv));
    }
  }
}

function gelu(p: usize, q0: i32, q1: i32): void {
  for (let q = <usize>q0 << 5, e = <usize>q1 << 5; q < e; q += 16) v128.store(p + q, vgelu(v128.load(p + q)));
}

function addInto(y: usize, x: usize, u0: i32, u1: i32): void {
  for (let q = <usize>u0 << 5, e = <usize>u1 << 5; q < e; q += 16) v128.store(y + q, f32x4.add(v128.load(y + q), v128.load(x + q)));
}

@inline function layer(d: usize, l: i32): usize { return d + (<usize>(32 + l * 16) << 2); }

export function inferStep(d: usize, logits: bool, tid: i32, nt: i32): void {
  const cell = word(d, 0), S = word(d, 1), E = word(d, 3), H = word(d, 4), L = word(d, 5);
  const Hp = word(d, 8), blocks = Hp >> 5;
  const u0 = share(blocks, tid, nt) << 2, u1 = share(blocks, tid + 1, nt) << 2;
  const hb = <usize>Hp << 2, eb = <usize>E << 2, ids = ptr(d, 17), emb = ptr(d, 11);
  // This thread's scratch: normed inputs (S × Hp), then the streams' embedding rows (S × E).
  const local = ptr(d, 22) + <usize>tid * <usize>word(d, 23), rows = local + <usize>S * hb;
  let top: usize;
  if (cell <= 2) {
    const G = cell == 0 ? 4 : cell == 1 ? 3 : 1, par = word(d, 24), pb = <usize>G * hb;
    let x: usize = 0, xs: usize = 0;
    for (let l = 0; l < L; l++) {
      const r = layer(d, l), hin = ptr(r, 4 + par), hout = ptr(r, 5 - par);
      const wx = ptr(r, 0), wh = ptr(r, 1), pre = ptr(r, 7);
      // The first layer starts each stream from its character's row of the input table (its
      // bias and x·W_x already summed), so it has no x input of its own.
      const b = l == 0 ? ptr(d, 25) : ptr(r, 2), iid = l == 0 ? ids : 0, kx = l == 0 ? 0 : word(r, 9);
      if (cell == 1) {
        const ph = ptr(r, 8), zp = load<f32>(d + (26 << 2)), zq = load<f32>(d + (27 << 2)), gainX = ptr(r, 10);
        if (!gainX) {
          mv(S, pre, pb, b, iid, pb, x, xs, kx, wx, 0, 0, 0, 0, u0 * 3, u1 * 3);
          mv(S, ph, pb, ptr(r, 3), 0, 0, hin, hb, H, wh, 0, 0, 0, 0, u0 * 3, u1 * 3);
        } else {
          // Normalised gates: the raw products, each thread's groups' sums of squares, one barrier,
          // then every thread normalises its own groups. The first layer's table rows are
          // normalised already, with their bias (infer-table.ts).
          const groups = Hp >> 3, part = ptr(d, 29), cols = <f64>(3 * H), eps = f32.reinterpret_i32(word(d, 28));
          mv(S, pre, pb, l == 0 ? b : 0, iid, pb, x, xs, kx, wx, 0, 0, 0, 0, u0 * 3, u1 * 3);
          mv(S, ph, pb, 0, 0, 0, hin, hb, H, wh, 0, 0, 0, 0, u0 * 3, u1 * 3);
          for (let s = 0; s < S; s++) {
            const pp = part + <usize>s * <usize>groups * 8, o = <usize>s * pb;
            for (let u = u0; u < u1; u++) {
              if (l > 0) store<f32>(pp + (<usize>u << 3), sumsq24(pre + o + <usize>u * 96));
              store<f32>(pp + (<usize>u << 3), sumsq24(ph + o + <usize>u * 96), 4);
            }
          }
          barrier(nt);
          for (let s = 0; s < S; s++) {
            const pp = part + <usize>s * <usize>groups * 8, o = <usize>s * pb;
            if (l > 0) normGates(pre + o, gainX, b, rstdOf(pp, groups, 0, cols, eps), u0, u1);
            normGates(ph + o, ptr(r, 11), ptr(r, 3), rstdOf(pp, groups, 4, cols, eps), u0, u1);
          }
        }
        for (let s = 0; s < S; s++) {
          const o = <usize>s * hb;
          gruCells(pre + <usize>s * pb, ph + <usize>s * pb, hin + o, hout + o, u0, u1, zp, zq);
        }
      } else {
        mv(S, pre, pb, b, iid, pb, x, xs, kx, wx, hin, hb, H, wh, u0 * G, u1 * G);
        for (let s = 0; s < S; s++) {
          const o = <usize>s * hb;
          if (cell == 0) lstmCells(pre + <usize>s * pb, ptr(r, 6) + o, hout + o, u0, u1);
          else tanhCells(pre + <usize>s * pb, hout + o, u0, u1);
        }
      }
      barrier(nt);
      x = hout; xs = hb;
    }
    top = x;
  } else {
    const lstm = cell == 4, G = lstm ? 3 : 2, pb = <usize>G * hb, M = word(d, 6), Mp = word(d, 9), mb = <usize>Mp << 2;
    const m0 = share(Mp >> 5, tid, nt) << 2, m1 = share(Mp >> 5, tid + 1, nt) << 2;
    let x = ptr(d, 18), y = ptr(d, 19);
    const x1 = ptr(d, 20), mbuf = ptr(d, 21), stem = ptr(d, 12), eps = f32.reinterpret_i32(word(d, 28));
    for (let s = 0; s < S; s++) memory.copy(rows + <usize>s * eb, emb + <usize>load<i32>(ids + (<usize>s << 2)) * eb, eb);
    if (stem) mv(S, x, hb, 0, 0, 0, rows, eb, E, stem, 0, 0, 0, 0, u0, u1);
    else {
      const lo = u0 << 3, hi = min(u1 << 3, H);
      for (let s = 0; s < S; s++) {
        if (lo < hi) memory.copy(x + <usize>s * hb + (<usize>lo << 2), rows + <usize>s * eb + (<usize>lo << 2), <usize>(hi - lo) << 2);
      }
    }
    barrier(nt);
    for (let l = 0; l < L; l++) {
      const r = layer(d, l), proj = ptr(r, 9), h = ptr(r, 8);
      for (let s = 0; s < S; s++) rmsnorm(local + <usize>s * hb, x + <usize>s * hb, ptr(r, 0), H, Hp, eps);
      mv(S, proj, pb, ptr(r, 2), 0, 0, local, hb, H, ptr(r, 1), 0, 0, 0, 0, u0 * G, u1 * G);
      for (let s = 0; s < S; s++) {
        const o = <usize>s * hb;
        scanCells(lstm, proj + <usize>s * pb, h + o, x + o, (M ? x1 : y) + o, u0, u1);
      }
      barrier(nt);
      if (M) {
        for (let s = 0; s < S; s++) rmsnorm(local + <usize>s * hb, x1 + <usize>s * hb, ptr(r, 3), H, Hp, eps);
        mv(S, mbuf, mb, ptr(r, 5), 0, 0, local, hb, H, ptr(r, 4), 0, 0, 0, 0, m0, m1);
        for (let s = 0; s < S; s++) gelu(mbuf + <usize>s * mb, m0, m1);
        barrier(nt);
        mv(S, y, hb, ptr(r, 7), 0, 0, mbuf, mb, M, ptr(r, 6), 0, 0, 0, 0, u0, u1);
        for (let s = 0; s < S; s++) addInto(y + <usize>s * hb, x1 + <usize>s * hb, u0, u1);
        barrier(nt);
      }
      const t = x; x = y; y = t;
    }
    for (let s = 0; s < S; s++) rmsnorm(local + <usize>s * hb, x + <usize>s * hb, ptr(d, 13), H, Hp, eps);
    top = local;
  }
  if (!logits) return;
  const Vp = word(d, 10), q0 = share(Vp >> 5, tid, nt) << 2, q1 = share(Vp >> 5, tid + 1, nt) << 2;
  mv(S, ptr(d, 16), <usize>Vp << 2, ptr(d, 15), 0, 0, top, hb, H, ptr(d, 14), 0, 0, 0, 0, q0, q1);
}
