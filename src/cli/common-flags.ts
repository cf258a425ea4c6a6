// The flags every model-running subcommand shares, declared once (their ranges and help come
// from the training settings table).
import os from 'node:os';
import { TRAIN_SETTINGS } from '../model/settings.js';
import { pick, type FlagSpec } from './parse.js';
import type { Ui } from './ui.js';

export const ENGINE_FLAGS: FlagSpec[] = [
  pick(TRAIN_SETTINGS, 'backend'),
  pick(TRAIN_SETTINGS, 'threads'),
];

export const jsonFlag = (help: string): FlagSpec => pick(TRAIN_SETTINGS, 'json', { help });

/** More threads than cores only make every op slower: cap them, and say so. */
export function capThreads(threads: number | undefined, ui: Ui): number | undefined {
  const cores = os.availableParallelism();
  if (threads === undefined || threads <= cores) return threads;
  ui.warn(`--threads ${threads} is more than the ${cores} cores here; using ${cores}`);
  return cores;
}
