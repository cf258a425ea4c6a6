import { UserError } from '../errors.js';

export const CELLS = ['lstm'] as const;
export type Cell = (typeof CELLS)[number];

export interface ModelConfig {
  cell: Cell;
  vocab: number;
  embed: number;
  hidden: number;
  layers: number;
}

export function validateConfig(c: ModelConfig): ModelConfig {
  if (!CELLS.includes(c.cell)) throw new UserError(`--model ${c.cell} is not a known cell; use one of: ${CELLS.join(', ')}`);
  const ints: [keyof ModelConfig, string, number][] = [['embed', '--embed', 4096], ['hidden', '--hidden', 8192], ['layers', '--layers', 64]];
  for (const [key, flag, max] of ints) {
    const v = c[key] as number;
    if (!Number.isInteger(v) || v < 1 || v > max) throw new UserError(`${flag} must be a whole number from 1 to ${max} (got ${v})`);
  }
  if (!Number.isInteger(c.vocab) || c.vocab < 2) throw new UserError(`the training text needs at least 2 distinct characters (found ${c.vocab})`);
  return c;
}
