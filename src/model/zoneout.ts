// Zoneout on the GRU's state (Krueger et al. 2017): in training each unit keeps its previous value
// with probability p at each step, h_t = d·h_{t−1} + (1 − d)·h̃_t with d ~ Bernoulli(p); inference
// runs the expectation, p·h_{t−1} + (1 − p)·h̃_t.
//
// For a GRU, h̃_t = (1 − z)·n + z·h_{t−1}, so the zoned-out state is a GRU whose update gate is
// z + d·(1 − z): d = 1 is z = 1 exactly. Training therefore adds ZONED to the update gate's
// pre-activation where d = 1. The sigmoid of any pre-activation that large is 1 in float32 on
// every engine, its derivative z·(1 − z) is then exactly 0, and the cell kernels, forward and
// backward, stay as they are: the gradient w.r.t. h_{t−1} is passed straight through and the
// unit's gates get none, which is zoneout's gradient.
import type { Rng } from '../rng.js';

/** Added to a zoned-out unit's update-gate pre-activation: far beyond any the weights give. */
export const ZONED = 1e4;

/**
 * This step's zoneout draws into `host` (rows × 3H, gate order [r | z | n]): ZONED with
 * probability p in each row's z block. The r and n blocks are never written, so a host array
 * that starts zeroed stays zero there.
 */
export function drawZoneout(host: Float32Array, rng: Rng, p: number, rows: number, H: number): void {
  for (let r = 0; r < rows; r++) rng.fillMask(host.subarray(r * 3 * H + H, r * 3 * H + 2 * H), p, ZONED);
}
