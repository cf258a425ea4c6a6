import { UserError } from '../errors.js';

export const CELLS = ['lstm', 'gru', 'rnn', 'mingru', 'minlstm'] as const;
export type Cell = (typeof CELLS)[number];

/** The minimal gated cells train in parallel and stack as pre-norm residual blocks. */
export const isMinCell = (c: Cell): c is 'mingru' | 'minlstm' => c === 'mingru' || c === 'minlstm';

export interface ModelConfig {
  cell: Cell;
  vocab: number;
  embed: number;
  hidden: number;
  layers: number;
  /** MLP expansion inside each minGRU/minLSTM block (0: no MLP); unused by the other cells. */
  mlp?: number;
  /**
   * Zoneout probability of the GRU's state (absent: none): in training each unit keeps its
   * previous value with this probability at each step; inference runs the expected state
   * p·h_{t−1} + (1 − p)·h̃_t, so it is part of the model, not only of its training.
   */
  zoneout?: number;
  /**
   * GRU only: RMS-normalised gate pre-activations (Ba et al. 2016's layer-normalised cells, with
   * RMSNorm): x·W_x and h·W_h are each normalised over their 3H gates, scaled by a learned gain
   * (norm_x, norm_h), and the biases added after. Absent: plain.
   */
  gateNorm?: boolean;
}

/** Inclusive ranges of the size fields; the flags of the same names take theirs from here. */
export const CONFIG_LIMITS = { embed: [1, 4096], hidden: [1, 8192], layers: [1, 64], mlp: [0, 16] } as const;
export const MAX_VOCAB = 0x110000;
/** Zoneout keeps a unit with this probability at most: at 1 the state would never change. */
export const MAX_ZONEOUT = 0.95;

/**
 * Checks a configuration. `source` says where it came from, for the message: flags (the default)
 * are named as flags; a checkpoint is named as the file whose config is damaged.
 */
export function validateConfig(c: ModelConfig, source: { checkpoint?: string } = {}): ModelConfig {
  const fail = (field: string, flag: string, why: string) =>
    new UserError(source.checkpoint ? `${source.checkpoint} has a damaged model config: ${field} ${why}` : `${flag} ${why}`);
  if (!CELLS.includes(c.cell)) throw fail('cell', '--model', `${JSON.stringify(c.cell)} is not a known cell; use one of: ${CELLS.join(', ')}`);
  for (const [key, [min, max]] of Object.entries(CONFIG_LIMITS) as [keyof typeof CONFIG_LIMITS, readonly [number, number]][]) {
    const v = c[key];
    if (v === undefined && key === 'mlp') continue;
    if (!Number.isInteger(v) || v! < min || v! > max) throw fail(key, `--${key}`, `must be a whole number from ${min} to ${max} (got ${v})`);
  }
  if (!Number.isInteger(c.vocab) || c.vocab < 2 || c.vocab > MAX_VOCAB) {
    if (source.checkpoint) throw fail('vocab', '', `must be a whole number from 2 to ${MAX_VOCAB} (got ${c.vocab})`);
    throw new UserError(`the training text needs at least 2 distinct characters (found ${c.vocab})`);
  }
  const z = c.zoneout ?? 0;
  if (!(typeof z === 'number' && z >= 0 && z <= MAX_ZONEOUT)) throw fail('zoneout', '--zoneout', `must be a number from 0 to ${MAX_ZONEOUT} (got ${z})`);
  if (z > 0 && c.cell !== 'gru') throw fail('zoneout', '--zoneout', `applies to the state of gru layers; a ${c.cell} model has none, so leave --zoneout out`);
  if (c.gateNorm !== undefined && typeof c.gateNorm !== 'boolean') throw fail('gateNorm', '--gate-norm', `must be true or false (got ${JSON.stringify(c.gateNorm)})`);
  if (c.gateNorm && c.cell !== 'gru') throw fail('gateNorm', '--gate-norm', `applies to the gates of gru layers; use it with --model gru, not ${c.cell}`);
  // Absent when off, so a model without them is written exactly as before.
  const { zoneout: _z, gateNorm: _g, ...rest } = c;
  return { ...rest, mlp: isMinCell(c.cell) ? (c.mlp ?? 2) : 0, ...(z > 0 ? { zoneout: z } : {}), ...(c.gateNorm ? { gateNorm: true } : {}) };
}
