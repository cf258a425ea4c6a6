// Learning rate: linear warm-up over the first `warmup` steps, then a decay from `lr` to `minLr`
// over the budget, by a cosine or a straight line. Progress is steps done / steps planned for a
// step budget, and elapsed / allowed seconds for a time budget, so the schedule always ends at
// minLr when the budget does.
import type { Decay } from '../model/settings.js';

export type { Decay } from '../model/settings.js';

export interface ScheduleOptions {
  lr: number;
  minLr: number;
  warmup: number;
  decay: Decay;
}

export function learningRate(o: ScheduleOptions, step: number, progress: number): number {
  const p = Math.min(1, Math.max(0, progress));
  const fall = o.decay === 'linear' ? p : 0.5 * (1 - Math.cos(Math.PI * p));
  const decayed = o.lr - (o.lr - o.minLr) * fall;
  return step < o.warmup ? (decayed * (step + 1)) / o.warmup : decayed;
}
