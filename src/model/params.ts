// Parameter layout: every parameter is a named view into one flat buffer, so the optimizer is one
// loop, a checkpoint one write, and gradients/moments share the same offsets.
import { GATES } from '../engine/engine-api.js';
import { isMinCell, type ModelConfig } from './config.js';
import { Rng } from '../rng.js';

export interface ParamView {
  name: string;
  shape: number[];
  off: number;
  size: number;
  /** Weight decay applies to matrices only, never to biases or norm gains. */
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
  const H = c.hidden, k = GATES[c.cell];
  add('embed.weight', [c.vocab, c.embed]);
  if (isMinCell(c.cell)) {
    if (c.embed !== H) add('stem.weight', [c.embed, H]);
    for (let l = 0; l < c.layers; l++) {
      const p = `${c.cell}.${l}`;
      add(`${p}.norm1`, [H]);
      add(`${p}.w`, [H, k * H]);
      add(`${p}.bias`, [k * H]);
      if (c.mlp) {
        add(`${p}.norm2`, [H]);
        add(`${p}.mlp.w1`, [H, c.mlp * H]);
        add(`${p}.mlp.b1`, [c.mlp * H]);
        add(`${p}.mlp.w2`, [c.mlp * H, H]);
        add(`${p}.mlp.b2`, [H]);
      }
    }
    add('norm_f', [H]);
  } else {
    for (let l = 0; l < c.layers; l++) {
      const p = `${c.cell}.${l}`, input = l === 0 ? c.embed : H;
      // Stored [in × out] so the forward products are plain A·B.
      add(`${p}.w_x`, [input, k * H]);
      add(`${p}.w_h`, [H, k * H]);
      if (c.cell === 'gru') {
        add(`${p}.b_x`, [k * H]);
        add(`${p}.b_h`, [k * H]);
        if (c.gateNorm) {
          add(`${p}.norm_x`, [k * H]);
          add(`${p}.norm_h`, [k * H]);
        }
      } else {
        add(`${p}.bias`, [k * H]);
      }
    }
  }
  add('head.weight', [H, c.vocab]);
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
  const H = c.hidden, k = GATES[c.cell];
  // Unit-scale embeddings, as torch's nn.Embedding does: the first layer sees inputs of the same
  // magnitude whatever the embedding width.
  const emb = view('embed.weight');
  for (let i = 0; i < emb.length; i++) emb[i] = rng.normal();
  if (isMinCell(c.cell)) {
    // torch.nn.Linear's ±1/√fan_in throughout, as the reference minGRU language model uses;
    // the RMSNorm in front of every block keeps the scan's inputs at unit scale regardless.
    if (c.embed !== H) uniform(view('stem.weight'), 1 / Math.sqrt(c.embed));
    for (let l = 0; l < c.layers; l++) {
      const pre = `${c.cell}.${l}`;
      view(`${pre}.norm1`).fill(1);
      uniform(view(`${pre}.w`), 1 / Math.sqrt(H));
      uniform(view(`${pre}.bias`), 1 / Math.sqrt(H));
      if (c.mlp) {
        view(`${pre}.norm2`).fill(1);
        uniform(view(`${pre}.mlp.w1`), 1 / Math.sqrt(H));
        uniform(view(`${pre}.mlp.b1`), 1 / Math.sqrt(H));
        // Residual branches scaled by 1/√(2·layers) (GPT-2): the stream's variance then stays
        // near one however many blocks add into it.
        uniform(view(`${pre}.mlp.w2`), 1 / Math.sqrt(c.mlp * H) / Math.sqrt(2 * c.layers));
      }
    }
    view('norm_f').fill(1);
  } else {
    for (let l = 0; l < c.layers; l++) {
      const pre = `${c.cell}.${l}`, input = l === 0 ? c.embed : H;
      // Glorot-uniform input weights keep the gate pre-activations near unit variance.
      uniform(view(`${pre}.w_x`), Math.sqrt(6 / (input + k * H)));
      // Orthogonal recurrent blocks (one per gate) preserve the norm of h through time at init,
      // so gradients neither explode nor vanish over the first hundred steps (Saxe et al., 2014;
      // for the plain tanh cell this is what keeps it trainable at all).
      orthogonalBlocks(view(`${pre}.w_h`), H, k, rng);
      // Gate biases that start by remembering: the LSTM forget gate at 1 (Jozefowicz et al.,
      // 2015); the GRU update gate z at 1, its equivalent (z = 1 keeps the previous state).
      if (c.cell === 'lstm') view(`${pre}.bias`).fill(1, H, 2 * H);
      if (c.cell === 'gru') view(`${pre}.b_x`).fill(1, H, 2 * H);
      if (c.gateNorm) {
        view(`${pre}.norm_x`).fill(1);
        view(`${pre}.norm_h`).fill(1);
      }
    }
  }
  uniform(view('head.weight'), 1 / Math.sqrt(H));
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
