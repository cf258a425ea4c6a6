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
}

export function validateConfig(c: ModelConfig): ModelConfig {
  if (!CELLS.includes(c.cell)) throw new UserError(`--model ${c.cell} is not a known cell; use one of: ${CELLS.join(', ')}`);
  const ints: [keyof ModelConfig, string, number, number][] = [
    ['embed', '--embed', 1, 4096], ['hidden', '--hidden', 1, 8192], ['layers', '--layers', 1, 64], ['mlp', '--mlp', 0, 16],
  ];
  for (const [key, flag, min, max] of ints) {
    const v = c[key] as number | undefined;
    if (v === undefined && key === 'mlp') continue;
    if (!Number.isInteger(v) || v! < min || v! > max) throw new UserError(`${flag} must be a whole number from ${min} to ${max} (got ${v})`);
  }
  if (!Number.isInteger(c.vocab) || c.vocab < 2) throw new UserError(`the training text needs at least 2 distinct characters (found ${c.vocab})`);
  return { ...c, mlp: isMinCell(c.cell) ? (c.mlp ?? 2) : 0 };
}
