// What a training run shows: a progress bar, the closing chart and summary on a terminal; JSON
// lines with --json; and the same lines appended to the --log file. stdout may close at any time
// (`| head`): the JSON lines then stop and training goes on.
import { engineLabel } from '../engine/engine-api.js';
import { existsSync } from 'node:fs';
import type { TrainEvent, TrainSummary } from '../train/loop.js';
import { lossChart, LossSeries } from './chart.js';
import { errColor as c, stderr } from './io.js';
import { JsonLog } from './json-log.js';
import { TrainProgress } from './progress.js';
import { fmt, fmtInt, jsonLine, type Ui } from './ui.js';

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** What a signal does to a training run: stop after the step, cut an evaluation short, or quit at once. */
export type SignalAction = 'stop' | 'cut' | 'quit';

export class TrainReport {
  private readonly train = new LossSeries();
  private readonly val = new LossSeries();
  private readonly progress: TrainProgress | null;
  private readonly log: JsonLog | null = null;
  /** The steps this run last saved the latest state and its best weights at. */
  private readonly saved = { latest: null as number | null, best: null as number | null };

  constructor(private readonly ui: Ui, budget: string, logFile?: string) {
    this.progress = ui.json ? null : new TrainProgress(budget);
    if (logFile) this.log = new JsonLog(logFile, (why) => ui.warn(`--log ${logFile}: ${why}; the log stops here, training goes on`));
  }

  onEvent = (ev: TrainEvent): void => {
    // Each estimate says what the process holds, so memory over a long run can be read off the log.
    const line = ev.type === 'step' ? { ...ev, loss: round(ev.loss), charsPerSec: Math.round(ev.charsPerSec) }
      : ev.type === 'eval' ? { ...ev, rss_mb: Math.round(process.memoryUsage.rss() / 2 ** 20) } : ev;
    this.log?.write(line);
    if (ev.type === 'step') this.train.push(ev.step, ev.loss);
    if (ev.type === 'eval') this.val.push(ev.step, ev.valLoss);
    if (ev.type === 'saved') this.saved[ev.kind] = ev.step;
    if (this.ui.json) return jsonLine(line);
    if (ev.type === 'save-failed') {
      this.progress?.stop();
      stderr.write(c.red(`could not save ${ev.path} at step ${ev.step}: ${ev.message}; the previous file is kept and training goes on\n`));
    } else if (ev.type === 'final-eval') {
      this.progress?.finalEval(ev.chars, ev.total);
    } else if (ev.type !== 'saved') {
      this.progress?.onEvent(ev);
    }
  };

  /** Says at once what a signal does, and on quitting what it leaves behind. */
  signal(sig: NodeJS.Signals, count: number, action: SignalAction, files: { latest: string; out: string; final: boolean }): void {
    const { latest, out } = files;
    const again = count === 1 ? sig : `${sig} ${count === 2 ? 'again' : 'a third time'}`;
    const quitHint = `(${count === 1 ? 'twice more' : 'once more'}: quit at once)`;
    let text: string;
    if (action === 'quit') {
      const left = this.saved.latest !== null ? `${latest} holds the state at step ${this.saved.latest}`
        : existsSync(latest) ? `${latest} is as it was before this run` : `no latest state was saved`;
      text = `${again}: quitting at once; ${left}` + (this.saved.best !== null ? `, and ${out} the best weights (step ${this.saved.best})` : '');
    } else if (action === 'stop') {
      text = `${again}: stopping after this step: saving the latest state to ${latest} (again: cut short an evaluation in progress; a third time: quit at once)`;
    } else if (files.final) {
      text = `${again}: cutting the final validation short; ` +
        (this.saved.latest !== null ? `the latest state is saved at ${latest}` : 'the latest state could not be saved') + ` ${quitHint}`;
    } else {
      text = `${again}: cutting short any evaluation in progress; the latest state is still saved to ${latest} ${quitHint}`;
    }
    const line = { type: 'signal', signal: sig, count, action, latest, message: text };
    this.log?.write(line);
    if (this.ui.json) return jsonLine(line);
    // Stopping the bar ends its line, so the message starts on its own.
    this.progress?.stop();
    stderr.write(`${c.yellow(text)}\n`);
  }

  /** `resumedAt`: the step a resumed run started from. */
  finish(s: TrainSummary, cell: string, patience: number, resumedAt?: number): void {
    this.progress?.stop();
    if (this.ui.json) {
      jsonLine({
        type: 'summary', ...s, train_loss: round(s.train_loss), val_loss: s.val_loss === null ? null : round(s.val_loss),
        val_bpc: s.val_bpc === null ? null : round(s.val_bpc), chars_per_sec: Math.round(s.chars_per_sec),
      });
    } else if (s.stopped === 'interrupted' || s.stopped === 'stop-after') {
      stderr.write(
        `${c.yellow('stopped')} at step ${s.steps}; ` + (s.latest ? `saved ${c.cyan(s.latest)} (resume with --resume ${s.latest})` : 'the latest state could not be saved') +
          (s.best_step !== null && s.best_eval_loss !== null ? `; best estimate ${fmt(s.best_eval_loss)} nats/char at step ${s.best_step}` : '') + '\n',
      );
    } else {
      const chart = lossChart({ train: this.train.points, val: this.val.points }, { color: c.level > 0, width: Math.min(100, (stderr.columns || 80) - 12) });
      if (chart) stderr.write(chart + '\n');
      stderr.write(
        `${c.bold('trained')} ${s.steps} steps of a ${fmtInt(s.params)}-parameter ${cell} on ${c.bold(engineLabel({ name: s.backend, variant: s.kernels ?? undefined }))} in ${s.seconds.toFixed(1)} s (${fmtInt(s.chars_per_sec)} chars/s)` +
          (s.stopped === 'patience' ? `, stopped early after ${patience} estimates without improvement` : '') + '\n' +
          `train loss ${fmt(s.train_loss)}  ${c.green(`validation loss ${fmt(s.val_loss!)} nats/char (${fmt(s.val_bpc!)} bits/char)`)}` +
          (resumedAt !== undefined && s.best_step !== null && s.best_step <= resumedAt
            ? ` of the best weights, from step ${s.best_step}: no estimate of this run beat them` : '') + '\n' +
          `checkpoint ${c.cyan(s.checkpoint)}` + (s.latest ? ` (latest state: ${s.latest})` : '') + '\n',
      );
    }
  }

  /** Stops the bar and closes the log. */
  async close(): Promise<void> {
    this.progress?.stop();
    this.log?.close();
  }
}
