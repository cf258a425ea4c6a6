// Parameter layout: every parameter is a named view into one flat buffer, so the optimizer is one
// loop, a checkpoint one write, and gradients/moments share the same offsets.
import type { ModelConfig } from './config.js';
import { Rng } from '../rng.js';

export interface ParamView {
  name: string;
  shape: number[];
  off: number;
  size: number;
  /** Weight decay applies to matrices only, never to biases. */
  decay: boolean;
}

export interface ParamLayout {
  views: ParamView[];
  byName: Map<string, ParamView>;
  total: number;
}

export function paramLayout(c: ModelConfig): ParamLayout {
  const views: ParamView[] = [];
  let off = 0;
  const add = (name: string, shape: number[]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    // 16-float alignment keeps every view on a SIMD- and cache-friendly boundary.
    views.push({ name, shape, off, size, decay: shape.length >= 2 });
    off += Math.ceil(size / 16) * 16;
  };
  add('embed.weight', [c.vocab, c.embed]);
  for (let l = 0; l < c.layers; l++) {
    const input = l === 0 ? c.embed : c.hidden;
    // Stored [in × out] so the forward products are plain A·B.
    add(`${c.cell}.${l}.w_x`, [input, 4 * c.hidden]);
    add(`${c.cell}.${l}.w_h`, [c.hidden, 4 * c.hidden]);
    add(`${c.cell}.${l}.bias`, [4 * c.hidden]);
  }
  add('head.weight', [c.hidden, c.vocab]);
  add('head.bias', [c.vocab]);
  return { views, byName: new Map(views.map((v) => [v.name, v])), total: off };
}

export function countParams(layout: ParamLayout): number {
  return layout.views.reduce((a, v) => a + v.size, 0);
}

export function initParams(c: ModelConfig, layout: ParamLayout, rng: Rng): Float32Array {
  const p = new Float32Array(layout.total);
  const view = (name: string) => {
    const v = layout.byName.get(name)!;
    return p.subarray(v.off, v.off + v.size);
  };
  const uniform = (a: Float32Array, bound: number) => {
    for (let i = 0; i < a.length; i++) a[i] = (2 * rng.uniform() - 1) * bound;
  };
  // Unit-scale embeddings, as torch's nn.Embedding does: the first layer sees inputs of
  // the same magnitude whatever the embedding width.
  const emb = view('embed.weight');
  for (let i = 0; i < emb.length; i++) emb[i] = rng.normal();
  for (let l = 0; l < c.layers; l++) {
    const input = l === 0 ? c.embed : c.hidden;
    // Glorot-style input weights keep the gate pre-activations near unit variance.
    uniform(view(`${c.cell}.${l}.w_x`), Math.sqrt(6 / (input + 4 * c.hidden)));
    // Orthogonal recurrent blocks (one per gate) preserve the norm of h through time at init,
    // so gradients neither explode nor vanish over the first hundred steps.
    orthogonalBlocks(view(`${c.cell}.${l}.w_h`), c.hidden, 4, rng);
    // Forget-gate bias 1: the cell starts by remembering (Jozefowicz et al., 2015).
    view(`${c.cell}.${l}.bias`).fill(1, c.hidden, 2 * c.hidden);
  }
  uniform(view('head.weight'), 1 / Math.sqrt(c.hidden));
  return p;
}

/** Fills a [n × blocks·n] matrix with `blocks` independent random orthogonal n×n blocks. */
function orthogonalBlocks(w: Float32Array, n: number, blocks: number, rng: Rng): void {
  const q = new Float64Array(n * n);
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < q.length; i++) q[i] = rng.normal();
    // Modified Gram-Schmidt over rows.
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        let dot = 0;
        for (let k = 0; k < n; k++) dot += q[i * n + k] * q[j * n + k];
        for (let k = 0; k < n; k++) q[i * n + k] -= dot * q[j * n + k];
      }
      let norm = 0;
      for (let k = 0; k < n; k++) norm += q[i * n + k] ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let k = 0; k < n; k++) q[i * n + k] /= norm;
    }
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) w[i * blocks * n + b * n + k] = q[i * n + k];
    }
  }
}
