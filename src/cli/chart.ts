// The end-of-training loss chart: train loss (smoothed) and validation estimates over steps,
// resampled to the terminal's width.
import asciichart from 'asciichart';
import { Chalk } from 'chalk';

export interface LossPoint { step: number; loss: number }

export interface LossHistory {
  train: LossPoint[];
  val: LossPoint[];
}

/**
 * A loss series of bounded length however long the run: once it holds `cap` points, neighbours
 * are merged in pairs (mean step, mean loss), so it keeps between cap/2 and cap points spread
 * over the whole run. The chart is at most 100 columns wide; a point per step grew a long run's
 * memory by hundreds of MB.
 */
export class LossSeries {
  readonly points: LossPoint[] = [];
  /** Steps pushed per stored point; points are only stored whole. */
  private stride = 1;
  private pending: LossPoint = { step: 0, loss: 0 };
  private count = 0;

  constructor(private readonly cap = 2048) {}

  push(step: number, loss: number): void {
    this.pending.step += step;
    this.pending.loss += loss;
    if (++this.count < this.stride) return;
    this.points.push({ step: this.pending.step / this.count, loss: this.pending.loss / this.count });
    this.pending = { step: 0, loss: 0 };
    this.count = 0;
    if (this.points.length < this.cap) return;
    const p = this.points;
    for (let i = 0; i < p.length / 2; i++) {
      p[i] = { step: (p[2 * i].step + p[2 * i + 1].step) / 2, loss: (p[2 * i].loss + p[2 * i + 1].loss) / 2 };
    }
    p.length = p.length / 2;
    this.stride *= 2;
  }
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
