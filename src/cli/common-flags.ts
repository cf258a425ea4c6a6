// The flags every model-running subcommand shares, declared once (their ranges and help come
// from the training settings table).
import { TRAIN_SETTINGS } from '../train/settings.js';
import { pick, type FlagSpec } from './parse.js';

export const ENGINE_FLAGS: FlagSpec[] = [
  pick(TRAIN_SETTINGS, 'backend'),
  pick(TRAIN_SETTINGS, 'threads'),
];

export const jsonFlag = (help: string): FlagSpec => pick(TRAIN_SETTINGS, 'json', { help });
