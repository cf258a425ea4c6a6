// Train/validation split as nanoGPT does it: the first part of the text trains, the last
// `valFrac` of the characters validates, so validation text is never seen in training.
import { UserError } from '../errors.js';
import type { IdArray } from './vocab.js';

export const DEFAULT_VAL_FRAC = 0.1;

/** `source` names the text in the "too small" error (e.g. the corpus path). */
export function splitIds<T extends IdArray>(ids: T, valFrac = DEFAULT_VAL_FRAC, source = 'the training text'): { train: T; val: T } {
  if (typeof valFrac !== 'number' || !(valFrac > 0 && valFrac <= 0.5)) {
    throw new UserError(`--val-frac must be a number in (0, 0.5], got ${valFrac}`);
  }
  const nTrain = Math.floor(ids.length * (1 - valFrac));
  const nVal = ids.length - nTrain;
  if (nTrain < 2 || nVal < 2) {
    throw new UserError(
      `${source} is too small to split: ${ids.length} characters leave ${nTrain} for training and ${nVal} for validation (need at least 2 each); use a larger file`,
    );
  }
  // Views, not copies: the corpus may be most of the process's memory.
  return { train: ids.subarray(0, nTrain) as T, val: ids.subarray(nTrain) as T };
}
