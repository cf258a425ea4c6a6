// The end-of-training loss chart: train loss (smoothed) and validation estimates over steps,
// resampled to the terminal's width.
import asciichart from 'asciichart';
import { Chalk } from 'chalk';

export interface LossHistory {
  train: { step: number; loss: number }[];
  val: { step: number; loss: number }[];
}

/** Without `color` the chart has no escape codes at all (a file, a pipe, NO_COLOR). */
export function lossChart(h: LossHistory, { color, width }: { color: boolean; width: number }): string {
  const chalk = new Chalk({ level: color ? 1 : 0 });
  if (h.train.length < 2) return '';
  const last = h.train[h.train.length - 1].step, first = h.train[0].step;
  const cols = Math.max(10, Math.min(width, h.train.length));
  const at = (i: number) => first + ((last - first) * i) / (cols - 1);
  const train = resample(h.train, cols, at, 0.1);
  const series = [train];
  const colors = [asciichart.cyan];
  if (h.val.length >= 2) {
    series.push(resample(h.val, cols, at, 1));
    colors.push(asciichart.green);
  }
  const plot = asciichart.plot(series, { height: 12, colors: color ? colors : undefined, format: (x: number) => x.toFixed(2).padStart(6) });
  return `${plot}\n${' '.repeat(8)}${chalk.cyan('train loss')}  ${chalk.green('validation loss')}  (steps ${first}–${last}, nats/char)`;
}

/** Exponentially smoothed values (weight `alpha` for new points), linearly interpolated at `cols` steps. */
function resample(points: { step: number; loss: number }[], cols: number, at: (i: number) => number, alpha: number): number[] {
  let ema = points[0].loss;
  const smooth = points.map((p) => ({ step: p.step, loss: (ema = alpha * p.loss + (1 - alpha) * ema) }));
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < cols; i++) {
    const s = at(i);
    while (j < smooth.length - 2 && smooth[j + 1].step < s) j++;
    const a = smooth[j], b = smooth[Math.min(j + 1, smooth.length - 1)];
    const t = b.step === a.step ? 0 : Math.min(1, Math.max(0, (s - a.step) / (b.step - a.step)));
    out.push(a.loss + t * (b.loss - a.loss));
  }
  return out;
}
