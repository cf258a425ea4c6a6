// Reference loops for the GRU, the minimal gated scans, RMSNorm and the pointwise activations.
// They define the semantics the other backends are tested against.
import type { GruBackwardArgs, GruForwardArgs, MinScanBackwardArgs, MinScanForwardArgs, RmsNormArgs, RmsNormBackwardArgs, Tensor } from '../engine-api.js';

export type Data = (t: Tensor) => Float32Array;
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const g = (x: number): number => (x >= 0 ? x + 0.5 : sigmoid(x));
/** g'(x) from gx = g(x): σ(x)(1 − σ(x)) for x < 0, where g(x) = σ(x). */
const dg = (x: number, gx: number): number => (x >= 0 ? 1 : gx * (1 - gx));
const GELU_C = Math.sqrt(2 / Math.PI);

export function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x * x * x)));
}

export function geluGrad(x: number): number {
  const u = GELU_C * (x + 0.044715 * x * x * x), t = Math.tanh(u);
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * x * x);
}

/** exp(−2u), what geluForward keeps for the backward pass. */
export function geluE(x: number): number {
  return Math.exp(-2 * GELU_C * (x + 0.044715 * x * x * x));
}

/**
 * gelu'(x) from e = exp(−2u): with s = σ(2u) = 1/(1 + e), 0.5·(1 + tanh u) = s and
 * 1 − tanh²u = 4·s·(1 − s), 1 − s = e·s (taken as 1 where e is huge: s is then 0 to float precision).
 */
export function geluGradE(x: number, e: number): number {
  const s = 1 / (1 + e), sn = e > 1e30 ? 1 : e * s;
  return s + 2 * GELU_C * x * s * sn * (1 + 3 * 0.044715 * x * x);
}

export function gruForward(d: Data, p: GruForwardArgs): void {
  const gx = d(p.gx), gh = d(p.gh), hp = d(p.hPrev), act = d(p.act), h = d(p.h), H = p.hidden;
  const gxo = p.gxOff ?? 0, gho = p.ghOff ?? 0, ao = p.actOff ?? 0;
  for (let b = 0; b < p.batch; b++) {
    for (let j = 0; j < H; j++) {
      const q = b * 3 * H + j, s = b * H + j;
      const r = sigmoid(gx[gxo + q] + gh[gho + q]);
      const z = sigmoid(gx[gxo + q + H] + gh[gho + q + H]);
      const n = Math.tanh(gx[gxo + q + 2 * H] + r * gh[gho + q + 2 * H]);
      act[ao + q] = r; act[ao + q + H] = z; act[ao + q + 2 * H] = n;
      h[(p.hOff ?? 0) + s] = (1 - z) * n + z * hp[(p.hPrevOff ?? 0) + s];
    }
  }
}

export function gruBackward(d: Data, p: GruBackwardArgs): void {
  const act = d(p.act), gh = d(p.gh), hp = d(p.hPrev), dh = d(p.dh), dgx = d(p.dGx), dgh = d(p.dGh), dhp = d(p.dhPrev), H = p.hidden;
  const ao = p.actOff ?? 0, gho = p.ghOff ?? 0, dxo = p.dGxOff ?? 0, dho = p.dGhOff ?? 0;
  for (let b = 0; b < p.batch; b++) {
    for (let j = 0; j < H; j++) {
      const q = b * 3 * H + j, s = b * H + j;
      const r = act[ao + q], z = act[ao + q + H], n = act[ao + q + 2 * H];
      const g_ = dh[(p.dhOff ?? 0) + s], hPrev = hp[(p.hPrevOff ?? 0) + s];
      const dnPre = g_ * (1 - z) * (1 - n * n);
      const dzPre = g_ * (hPrev - n) * z * (1 - z);
      const drPre = dnPre * gh[gho + q + 2 * H] * r * (1 - r);
      dgx[dxo + q] = drPre; dgx[dxo + q + H] = dzPre; dgx[dxo + q + 2 * H] = dnPre;
      dgh[dho + q] = drPre; dgh[dho + q + H] = dzPre; dgh[dho + q + 2 * H] = dnPre * r;
      dhp[(p.dhPrevOff ?? 0) + s] += g_ * z;
    }
  }
}

export function minScanForward(d: Data, p: MinScanForwardArgs): void {
  const proj = d(p.proj), act = d(p.act), h = d(p.h), H = p.hidden, B = p.batch;
  const k = p.cell === 'mingru' ? 2 : 3, po = p.projOff ?? 0, ao = p.actOff ?? 0, ho = p.hOff ?? 0;
  for (let t = 0; t < p.steps; t++) {
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < H; j++) {
        const q = (t * B + b) * k * H + j;
        let a: number, coef: number;
        if (p.cell === 'mingru') {
          const z = sigmoid(proj[po + q]);
          act[ao + q] = z;
          a = 1 - z; coef = z;
        } else {
          const f = sigmoid(proj[po + q]), i = sigmoid(proj[po + q + H]);
          a = f / (f + i); coef = i / (f + i);
          act[ao + q] = a; act[ao + q + H] = coef;
        }
        const u = g(proj[po + q + (k - 1) * H]);
        act[ao + q + (k - 1) * H] = u;
        h[ho + ((t + 1) * B + b) * H + j] = a * h[ho + (t * B + b) * H + j] + coef * u;
      }
    }
  }
  if (p.residual && p.sum) {
    const res = d(p.residual), sum = d(p.sum), ro = p.residualOff ?? 0, so = p.sumOff ?? 0, n = p.steps * B * H;
    for (let i = 0; i < n; i++) sum[so + i] = res[ro + i] + h[ho + B * H + i];
  }
}

export function minScanBackward(d: Data, p: MinScanBackwardArgs): void {
  const proj = d(p.proj), act = d(p.act), h = d(p.h), dh = d(p.dh), dp = d(p.dProj), H = p.hidden, B = p.batch;
  const k = p.cell === 'mingru' ? 2 : 3, po = p.projOff ?? 0, ao = p.actOff ?? 0, ho = p.hOff ?? 0, dpo = p.dProjOff ?? 0;
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      let carry = 0; // ∂loss/∂h_t flowing back from h_{t+1}
      for (let t = p.steps - 1; t >= 0; t--) {
        const q = (t * B + b) * k * H + j;
        const gt = carry + dh[(p.dhOff ?? 0) + (t * B + b) * H + j];
        const hPrev = h[ho + (t * B + b) * H + j], u = act[ao + q + (k - 1) * H];
        dp[dpo + q + (k - 1) * H] = gt * act[ao + q + (p.cell === 'mingru' ? 0 : H)] * dg(proj[po + q + (k - 1) * H], u);
        if (p.cell === 'mingru') {
          const z = act[ao + q];
          dp[dpo + q] = gt * (u - hPrev) * z * (1 - z);
          carry = gt * (1 - z);
        } else {
          // a = f/(f+i), c = i/(f+i): ∂a/∂f_pre = a·c·(1−σf), ∂a/∂i_pre = −a·c·(1−σi); c = 1 − a.
          const a = act[ao + q], c = act[ao + q + H];
          const sf = sigmoid(proj[po + q]), si = sigmoid(proj[po + q + H]);
          const dA = gt * (hPrev - u); // h = a·hPrev + (1−a)·u
          dp[dpo + q] = dA * a * c * (1 - sf);
          dp[dpo + q + H] = -dA * a * c * (1 - si);
          carry = gt * a;
        }
      }
    }
  }
}

export function rmsNormForward(d: Data, p: RmsNormArgs): void {
  const x = d(p.x), w = d(p.w), out = d(p.out), rs = d(p.rstd), C = p.cols;
  const xo = p.xOff ?? 0, wo = p.wOff ?? 0, oo = p.outOff ?? 0;
  for (let r = 0; r < p.rows; r++) {
    let ss = 0;
    for (let j = 0; j < C; j++) ss += x[xo + r * C + j] ** 2;
    const rstd = 1 / Math.sqrt(ss / C + p.eps);
    rs[(p.rstdOff ?? 0) + r] = rstd;
    for (let j = 0; j < C; j++) out[oo + r * C + j] = x[xo + r * C + j] * rstd * w[wo + j];
  }
}

export function rmsNormBackward(d: Data, p: RmsNormBackwardArgs): void {
  const x = d(p.x), w = d(p.w), rs = d(p.rstd), dout = d(p.dOut), dx = d(p.dx), dw = d(p.dw), C = p.cols;
  const xo = p.xOff ?? 0, wo = p.wOff ?? 0, go = p.dOutOff ?? 0, dxo = p.dxOff ?? 0, dwo = p.dwOff ?? 0;
  const base = p.residual ? d(p.residual) : dx, bo = p.residual ? (p.residualOff ?? 0) : dxo;
  for (let r = 0; r < p.rows; r++) {
    const rstd = rs[(p.rstdOff ?? 0) + r];
    // y = x·rstd·w; ∂/∂x = rstd·(w·dy − x·rstd²·mean(x·w·dy))
    let dot = 0;
    for (let j = 0; j < C; j++) dot += x[xo + r * C + j] * w[wo + j] * dout[go + r * C + j];
    const k = (rstd * rstd * dot) / C;
    for (let j = 0; j < C; j++) {
      const xv = x[xo + r * C + j], gy = dout[go + r * C + j];
      dx[dxo + r * C + j] = base[bo + r * C + j] + rstd * (w[wo + j] * gy - xv * k);
      dw[dwo + j] += gy * xv * rstd;
    }
  }
}
