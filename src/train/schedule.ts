// Learning rate: linear warm-up over the first `warmup` steps, then cosine decay from `lr` to
// `minLr` over the budget. Progress is steps done / steps planned for a step budget, and elapsed /
// allowed seconds for a time budget, so the schedule always ends at minLr when the budget does.
export interface ScheduleOptions {
  lr: number;
  minLr: number;
  warmup: number;
}

export function learningRate(o: ScheduleOptions, step: number, progress: number): number {
  const p = Math.min(1, Math.max(0, progress));
  const cosine = o.minLr + 0.5 * (o.lr - o.minLr) * (1 + Math.cos(Math.PI * p));
  return step < o.warmup ? (cosine * (step + 1)) / o.warmup : cosine;
}
