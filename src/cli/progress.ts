// Progress bars on stderr: training (step, losses, throughput, ETA) and scoring a text (eval, the
// final validation pass). Off a terminal they print a line every few seconds instead of redrawing.
import cliProgress from 'cli-progress';
import type { TrainEvent } from '../train/loop.js';
import { errColor as c, stderr } from './io.js';
import { fmt, fmtInt } from './ui.js';

/** "4m 10s"; a dash while no rate is known yet (cli-progress would print "NFs"). */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

// cli-progress moves the cursor on anything that says it is a TTY. A terminal that cannot take
// that (TERM=dumb, or one that reports no width) gets the line-every-few-seconds mode of a pipe,
// through a stream that says it is not one.
const lines = { isTTY: false, write: (s: string) => (stderr.write(s), true) } as unknown as NodeJS.WritableStream;

function bar(format: string): cliProgress.SingleBar {
  return new cliProgress.SingleBar(
    { format, barsize: 24, hideCursor: true, stream: stderr.redraws ? process.stderr : lines, noTTYOutput: !stderr.redraws, notTTYSchedule: 5000 },
    cliProgress.Presets.shades_classic,
  );
}

/** A bar for scoring `total` units, with its own ETA from the rate so far. */
export class ScoreProgress {
  private readonly bar: cliProgress.SingleBar;
  private started = false;
  private readonly t0 = performance.now();

  constructor(label: string, private readonly unit = 'chars') {
    this.bar = bar(`${c.cyan('{bar}')} {percentage}% | ${label} | {done} ${unit} | {rate} ${unit}/s | ETA {eta_text}`);
  }

  update(done: number, total: number, scored = done): void {
    const secs = (performance.now() - this.t0) / 1000;
    const rate = secs > 0 ? scored / secs : NaN;
    // The first second's rate includes start-up: no ETA from it.
    const eta = done > 0 && secs >= 1 ? (secs / done) * (total - done) : NaN;
    const payload = { done: fmtInt(scored), rate: Number.isFinite(rate) ? fmtInt(rate) : '—', eta_text: formatEta(eta) };
    if (!this.started) {
      this.bar.start(Math.max(1, total), done, payload);
      this.started = true;
    } else {
      this.bar.setTotal(Math.max(1, total));
      this.bar.update(done, payload);
    }
  }

  stop(): void {
    if (this.started) this.bar.stop();
    this.started = false;
  }
}

export class TrainProgress {
  private readonly bar: cliProgress.SingleBar;
  private started = false;
  private val = '—';
  private scoring: ScoreProgress | null = null;

  constructor(budgetLabel: string) {
    this.bar = bar(`${c.cyan('{bar}')} {percentage}% | step {step} | loss {loss} | val {val} | {cps} chars/s | ETA {eta_text} | ${budgetLabel}`);
  }

  onEvent(ev: TrainEvent): void {
    if (ev.type === 'step') {
      // The budget is training time or steps; progress is its fraction, elapsed the training time.
      const eta = ev.progress > 0 ? (ev.elapsed / ev.progress) * (1 - ev.progress) : NaN;
      const payload = { step: ev.step, loss: fmt(ev.loss, 3), val: this.val, cps: fmtInt(ev.charsPerSec), eta_text: formatEta(eta) };
      const value = Math.round(ev.progress * 1000);
      if (!this.started) {
        this.bar.start(1000, value, payload);
        this.started = true;
      } else {
        this.bar.update(value, payload);
      }
    } else if (ev.type === 'eval') {
      this.val = fmt(ev.valLoss, 3) + (ev.best ? c.green('*') : '');
      if (this.started) this.bar.update({ val: this.val });
    }
  }

  /** The final pass over the whole validation split gets a bar of its own. */
  finalEval(done: number, total: number): void {
    if (!this.scoring) {
      this.stop();
      this.scoring = new ScoreProgress('scoring the whole validation split');
    }
    this.scoring.update(done, total);
  }

  stop(): void {
    if (this.started) this.bar.stop();
    this.started = false;
    this.scoring?.stop();
  }
}
