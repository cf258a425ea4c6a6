// The training progress bar: step, losses, throughput and ETA on one line.
import cliProgress from 'cli-progress';
import chalk from 'chalk';
import type { TrainEvent } from '../train/loop.js';
import { fmt, fmtInt } from './ui.js';

export class TrainProgress {
  private bar: cliProgress.SingleBar;
  private started = false;
  private val = '—';

  constructor(private readonly budgetLabel: string) {
    this.bar = new cliProgress.SingleBar(
      {
        format: `${chalk.cyan('{bar}')} {percentage}% | step {step} | loss {loss} | val {val} | {cps} chars/s | ETA {eta_formatted} | ${budgetLabel}`,
        barsize: 24,
        hideCursor: true,
        stream: process.stderr,
        noTTYOutput: !process.stderr.isTTY,
        notTTYSchedule: 5000,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  onEvent(ev: TrainEvent): void {
    if (ev.type === 'step') {
      const payload = { step: ev.step, loss: fmt(ev.loss, 3), val: this.val, cps: fmtInt(ev.charsPerSec) };
      const value = Math.round(ev.progress * 1000);
      if (!this.started) {
        this.bar.start(1000, value, payload);
        this.started = true;
      } else {
        this.bar.update(value, payload);
      }
    } else if (ev.type === 'eval') {
      this.val = fmt(ev.valLoss, 3) + (ev.best ? chalk.green('*') : '');
      if (this.started) this.bar.update({ val: this.val });
    }
  }

  stop(): void {
    if (this.started) this.bar.stop();
  }
}
