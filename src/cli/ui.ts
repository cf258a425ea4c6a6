// Terminal helpers shared by the subcommands: spinners that vanish in --json mode or off a TTY,
// number formatting, and JSON lines.
import ora, { type Ora } from 'ora';
import { errColor, stderr, stdout } from './io.js';

export interface Ui {
  json: boolean;
  /** Runs `work` under a spinner labelled `text` (silent in JSON mode). */
  wait<T>(text: string, work: () => Promise<T>): Promise<T>;
  /** A line on stderr for humans (suppressed in JSON mode). */
  note(text: string): void;
  /** A warning on stderr, in JSON mode too (it is not part of the JSON output). */
  warn(text: string): void;
}

export function makeUi(json: boolean): Ui {
  return {
    json,
    async wait(text, work) {
      if (json) return work();
      const spinner: Ora = ora({ text, stream: process.stderr, isSilent: !stderr.redraws, color: errColor.level ? 'cyan' : false });
      spinner.start();
      try {
        const r = await work();
        spinner.succeed();
        return r;
      } catch (e) {
        spinner.stop();
        throw e;
      }
    },
    note(text) {
      if (!json) stderr.write(text + '\n');
    },
    warn(text) {
      stderr.write(errColor.yellow(`warning: ${text}`) + '\n');
    },
  };
}

export function fmt(n: number, digits = 4): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function jsonLine(obj: object): void {
  stdout.write(JSON.stringify(obj) + '\n');
}
