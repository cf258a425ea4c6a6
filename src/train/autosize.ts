// Model and settings sized to a time budget on this machine: measure how fast each candidate of a
// cell family trains here, then take the largest one that still sees enough characters in the
// budget. A recurrent character model that sees fewer than about CHARS_PER_PARAM characters per
// parameter is still far from what it could reach, and a smaller model that gets further along
// its learning curve does better in the same time.
import type { Engine } from '../engine/engine-api.js';
import { validateConfig, type Cell, type ModelConfig } from '../model/config.js';
import { countParams, paramLayout } from '../model/params.js';
import { measureTrainSpeed, type SpeedResult } from './throughput.js';
import { UserError } from '../errors.js';

export interface SizedSettings {
  cell: Cell;
  layers: number;
  hidden: number;
  embed: number;
  mlp: number;
  /** GRU layers with normalised gates (ModelConfig.gateNorm): on a CPU engine, where they win (GATE_NORM_ON_CPU). */
  gateNorm: boolean;
  batch: number;
  seq: number;
  lr: number;
  dropout: number;
  /** Characters per second measured for the chosen size here. */
  charsPerSec: number;
  /** How many candidates were measured. */
  measured: number;
  /** On a GPU: the batches tried for the size, and how fast each trained (the choice is recorded with them). */
  batches?: { batch: number; charsPerSec: number }[];
}

/**
 * Ten minutes of tinyshakespeare here (README, "Size"): GRUs of 2x296, 2x256 and 2x240 seeing 9,
 * 18 and 22 characters per parameter reached 1.4191, 1.4108 and 1.4139 nats/char; at 5 the rule
 * picked the first.
 */
export const CHARS_PER_PARAM = 12;

type Candidate = Omit<ModelConfig, 'vocab'> & { lr: number };

/**
 * Families, smallest first. The GRU is the default: at a matched size it reached the lowest
 * validation loss of all five cells in ten minutes here (README). Learning rates shrink as models
 * grow, as usual for Adam.
 */
const FAMILIES: Partial<Record<Cell, Candidate[]>> = {
  gru: [
    // Widths that are multiples of 32 fill the kernels' tiles: a 2x288 trains about 1.09x as fast
    // as a 2x296 here, and a 2x256 almost as fast as a 2x240.
    { cell: 'gru', layers: 2, hidden: 96, embed: 64, lr: 7e-3 },
    { cell: 'gru', layers: 2, hidden: 128, embed: 64, lr: 6e-3 },
    { cell: 'gru', layers: 2, hidden: 160, embed: 64, lr: 6e-3 },
    { cell: 'gru', layers: 2, hidden: 192, embed: 64, lr: 5.5e-3 },
    { cell: 'gru', layers: 2, hidden: 224, embed: 64, lr: 5e-3 },
    { cell: 'gru', layers: 2, hidden: 256, embed: 64, lr: 5e-3 },
    { cell: 'gru', layers: 2, hidden: 288, embed: 64, lr: 5e-3 },
    { cell: 'gru', layers: 2, hidden: 384, embed: 64, lr: 4e-3 },
    { cell: 'gru', layers: 2, hidden: 512, embed: 64, lr: 3e-3 },
    { cell: 'gru', layers: 2, hidden: 640, embed: 96, lr: 2.5e-3 },
    { cell: 'gru', layers: 3, hidden: 768, embed: 96, lr: 2e-3 },
  ],
  mingru: [
    { cell: 'mingru', layers: 3, hidden: 128, embed: 64, mlp: 2, lr: 4e-3 },
    { cell: 'mingru', layers: 3, hidden: 216, embed: 64, mlp: 2, lr: 3e-3 },
    { cell: 'mingru', layers: 3, hidden: 320, embed: 64, mlp: 2, lr: 2.5e-3 },
    { cell: 'mingru', layers: 4, hidden: 384, embed: 64, mlp: 2, lr: 2e-3 },
    { cell: 'mingru', layers: 4, hidden: 512, embed: 96, mlp: 2, lr: 1.5e-3 },
  ],
  lstm: [
    { cell: 'lstm', layers: 2, hidden: 128, embed: 64, lr: 6e-3 },
    { cell: 'lstm', layers: 2, hidden: 256, embed: 64, lr: 5e-3 },
    { cell: 'lstm', layers: 2, hidden: 384, embed: 64, lr: 4e-3 },
    { cell: 'lstm', layers: 2, hidden: 512, embed: 64, lr: 3e-3 },
    { cell: 'lstm', layers: 3, hidden: 512, embed: 64, lr: 2e-3 },
    { cell: 'lstm', layers: 3, hidden: 768, embed: 96, lr: 1.5e-3 },
  ],
};

export const SIZED_CELLS = Object.keys(FAMILIES) as Cell[];

/**
 * Dropout by how many times the budget will show the model its training text. The sweep in the
 * README (tinyshakespeare, ten minutes, GRU 2x296 for about 9 passes: dropout 0 / 0.1 / 0.2 / 0.35
 * gave 1.4464 / 1.4324 / 1.4392 / 1.4702 nats/char) puts the best near 0.1 there; a model that
 * sees most characters once or twice is not overfitting and loses by dropping; many more passes
 * call for more (0.2 beyond 16 is the usual char-rnn range, not measured here).
 */
export function dropoutForEpochs(epochs: number): number {
  return epochs < 2 ? 0 : epochs < 16 ? 0.1 : 0.2;
}

/**
 * Sequences of 64 rather than the flag's 128: the same characters per second here, twice the
 * updates in a budget, and a lower validation loss in ten minutes of tinyshakespeare (README).
 */
export const SIZED_SEQ = 64;

/**
 * The batch a CPU engine trains sized models at. Half of 32 costs 1.05x per character here and
 * makes twice the updates; at equal time it reached a lower loss (docs/measurements.md, issue 26).
 */
export const CPU_BATCH = 16;

/**
 * Sized GRUs normalise their gates on a CPU engine: they cost about 1.16x per step here and reach
 * a lower loss at equal time (docs/measurements.md, issue 26). Not on a GPU, where the norm inside
 * the recurrence would turn its one fused op per layer back into four launches per timestep.
 */
export const GATE_NORM_ON_CPU = true;

/**
 * Normalised gates take a higher peak rate: the GRU 2x256 at batch 16 reached 1.4007 and 1.3902
 * nats/char at 7e-3 against 1.4042 and 1.4081 at 5e-3 (two seeds, equal time; measured at that
 * size only, applied to the family's rates alike).
 */
export const GATE_NORM_LR_SCALE = 1.4;

/**
 * The batches a GPU tries (smallest first): a GPU runs a batch of 32 about as fast as one of 256,
 * every timestep being a launch whatever the batch, so it needs larger ones to be filled.
 */
export const GPU_BATCHES = [64, 128, 256, 512] as const;

/** What auto measures a GPU at when the budget sizes the model (the middle of GPU_BATCHES). */
export const GPU_PROBE_BATCH = 256;

/** A batch that trains less than this much faster than the one before it is not worth its fewer updates. */
const BATCH_GAIN = 1.15;

type Measure = (e: Engine, config: ModelConfig, batch: number, seq: number, steps: number, warmup: number) => Promise<SpeedResult>;

export interface SizeOptions {
  /** A fixed batch; by default CPU_BATCH, or on a GPU (Engine.readsBlock) the best of GPU_BATCHES. */
  batch?: number;
  seq?: number;
  /** For tests: the speed measurement. */
  measure?: Measure;
}

/**
 * On a GPU, the batch for `config`: up the ladder while a batch trains at least BATCH_GAIN times
 * as fast as the one below it (a batch too large for the device ends the climb).
 */
async function gpuBatch(e: Engine, config: ModelConfig, seq: number, measure: Measure): Promise<{ batch: number; speed: SpeedResult; tried: { batch: number; charsPerSec: number }[] }> {
  let best: { batch: number; speed: SpeedResult } | null = null;
  const tried: { batch: number; charsPerSec: number }[] = [];
  for (const batch of GPU_BATCHES) {
    let speed: SpeedResult;
    try {
      speed = await measure(e, config, batch, seq, 2, 1);
    } catch (err) {
      if (best && err instanceof UserError) break;
      throw err;
    }
    tried.push({ batch, charsPerSec: speed.charsPerSec });
    if (best && speed.charsPerSec < BATCH_GAIN * best.speed.charsPerSec) break;
    best = { batch, speed };
  }
  return { ...best!, tried };
}

/**
 * `trainChars`: the size of the training split, for the passes the budget makes over it. On a GPU
 * the batch is chosen first, on the family's smallest model (a larger model fills the device
 * sooner, so it never needs a larger batch), and every size is measured at it.
 */
export async function sizeToBudget(e: Engine, cell: Cell, vocab: number, seconds: number, trainChars: number, o: SizeOptions = {}): Promise<SizedSettings> {
  const family = FAMILIES[cell];
  if (!family) throw new Error(`no size family for ${cell}`);
  const seq = o.seq ?? SIZED_SEQ, measure = o.measure ?? measureTrainSpeed;
  let batch = o.batch ?? CPU_BATCH;
  let batches: SizedSettings['batches'];
  if (o.batch === undefined && e.readsBlock) {
    const { lr: _, ...smallest } = family[0];
    const pick = await gpuBatch(e, validateConfig({ ...smallest, vocab }), seq, measure);
    [batch, batches] = [pick.batch, pick.tried];
  }
  const gateNorm = cell === 'gru' && GATE_NORM_ON_CPU && !e.readsBlock;
  let chosen: SizedSettings | null = null;
  let measured = 0;
  for (const { lr, ...c } of family) {
    const config = validateConfig({ ...c, vocab, ...(gateNorm ? { gateNorm } : {}) });
    let speed: SpeedResult;
    try {
      speed = await measure(e, config, batch, seq, 2, 1);
    } catch (err) {
      // A model too large for the device (gpu.js's float32 indexing) is as good as too slow.
      if (chosen && err instanceof UserError) break;
      throw err;
    }
    measured++;
    const fits = speed.charsPerSec * seconds >= CHARS_PER_PARAM * countParams(paramLayout(config));
    if (!fits && chosen) break;
    chosen = {
      cell, layers: c.layers, hidden: c.hidden, embed: c.embed, mlp: config.mlp ?? 0, gateNorm,
      lr: gateNorm ? +(lr * GATE_NORM_LR_SCALE).toPrecision(3) : lr, batch, seq,
      dropout: dropoutForEpochs((speed.charsPerSec * seconds) / Math.max(1, trainChars)), charsPerSec: speed.charsPerSec, measured,
      ...(batches ? { batches } : {}),
    };
    if (!fits) break;
  }
  return { ...chosen!, measured };
}
