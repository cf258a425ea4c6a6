// Ctrl-C, SIGTERM and SIGHUP (an ssh session that drops) for long work. Each signal before the
// last is handed to the command, counted, to stop gracefully; the last one (the `quitAt`-th)
// exits at once, after saying what it leaves behind and removing the temporary file of any save
// in progress, so no checkpoint is touched.
import { constants } from 'node:os';
import { rmSync } from 'node:fs';
import { savesInFlight } from '../checkpoint/index.js';

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface StopOptions {
  /** The signal that exits at once, counted from 1 (default 2). */
  quitAt?: number;
  /** Called just before that exit. */
  onQuit?: (sig: NodeJS.Signals) => void;
}

export class StopGuard {
  /** The first signal received. */
  signal: NodeJS.Signals | null = null;
  count = 0;
  private readonly handler = (sig: NodeJS.Signals) => this.onSignal(sig);

  constructor(
    private readonly onStop: (sig: NodeJS.Signals, count: number) => void,
    private readonly o: StopOptions = {},
  ) {
    for (const s of SIGNALS) process.on(s, this.handler);
  }

  get stopRequested(): boolean {
    return this.signal !== null;
  }

  /** 128 + the first signal's number, as a shell reports a process it ended: 130 for Ctrl-C. */
  get exitCode(): number {
    return 128 + (this.signal ? constants.signals[this.signal] : constants.signals.SIGINT);
  }

  dispose(): void {
    for (const s of SIGNALS) process.off(s, this.handler);
  }

  private onSignal(sig: NodeJS.Signals): void {
    this.signal ??= sig;
    if (++this.count >= (this.o.quitAt ?? 2)) {
      this.o.onQuit?.(sig);
      for (const tmp of savesInFlight) rmSync(tmp, { force: true });
      process.exit(this.exitCode);
    }
    this.onStop(sig, this.count);
  }
}
