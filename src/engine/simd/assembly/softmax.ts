// Softmax cross-entropy per row (max-subtracted), rows split across threads.
import { blockOf, claim } from './kernel-layout';
import { ld, st } from './lanes';
import { vexp, logPositive } from './vmath';

export function softmaxXent(logits: usize, targets: usize, losses: usize, dLogits: usize, rows: i32, vocab: i32,
  scale: f32, tid: i32, nt: i32): void {
  const rb = <usize>vocab << 2, vv = vocab & ~3;
  const bs = blockOf(rows, nt, 1);
  for (let r0 = claim() * bs; r0 < rows; r0 = claim() * bs) for (let r = r0, e = min(rows, r0 + bs); r < e; r++) {
    const x = logits + <usize>r * rb;
    let mv = f32x4.splat(-Infinity);
    let j = 0;
    for (; j < vv; j += 4) mv = f32x4.pmax(mv, v128.load(x + (<usize>j << 2)));
    let mx = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    for (; j < vocab; j++) mx = max(mx, load<f32>(x + (<usize>j << 2)));
    const m4 = f32x4.splat(mx);
    const d = dLogits ? dLogits + <usize>r * rb : 0;
    let sv = f32x4.splat(0);
    for (j = 0; j < vv; j += 4) {
      const q = <usize>j << 2;
      const ev = vexp(f32x4.sub(v128.load(x + q), m4));
      sv = f32x4.add(sv, ev);
      if (d) v128.store(d + q, ev);
    }
    let sum = (f32x4.extract_lane(sv, 0) + f32x4.extract_lane(sv, 1)) + (f32x4.extract_lane(sv, 2) + f32x4.extract_lane(sv, 3));
    for (; j < vocab; j++) {
      const q = <usize>j << 2;
      const ev = vexp(f32x4.sub(ld(x + q, false), m4));
      sum += f32x4.extract_lane(ev, 0);
      if (d) st(d + q, ev, false);
    }
    const t = <i32>load<f32>(targets + (<usize>r << 2));
    const xt = load<f32>(x + (<usize>t << 2));
    store<f32>(losses + (<usize>r << 2), <f32>(logPositive(<f64>sum) - <f64>(xt - mx)));
    if (!d) continue;
    const k4 = f32x4.splat(scale / sum);
    for (j = 0; j < vv; j += 4) {
      const q = <usize>j << 2;
      v128.store(d + q, f32x4.mul(v128.load(d + q), k4));
    }
    for (; j < vocab; j++) {
      const q = <usize>j << 2;
      store<f32>(d + q, load<f32>(d + q) * (scale / sum));
    }
    const dt = d + (<usize>t << 2);
    store<f32>(dt, load<f32>(dt) - scale);
  }
}
