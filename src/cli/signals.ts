// Ctrl-C and SIGTERM during training. The first asks the loop to stop after the current step and
// save; a second (or any during the final validation, when both checkpoints are already saved)
// exits at once, removing the temporary file of a save in progress so no checkpoint is touched.
import { rmSync } from 'node:fs';
import { savesInFlight } from '../checkpoint/index.js';

export class StopGuard {
  signal: NodeJS.Signals | null = null;
  /** Set once nothing is left to save: a signal then ends the process at once. */
  finalPhase = false;
  private readonly handler = (sig: NodeJS.Signals) => this.onSignal(sig);

  constructor(private readonly onFirst: (sig: NodeJS.Signals) => void) {
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
  }

  get stopRequested(): boolean {
    return this.signal !== null;
  }

  get exitCode(): number {
    return this.signal === 'SIGTERM' ? 143 : 130;
  }

  dispose(): void {
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
  }

  private onSignal(sig: NodeJS.Signals): void {
    if (this.signal || this.finalPhase) {
      for (const tmp of savesInFlight) rmSync(tmp, { force: true });
      process.exit(sig === 'SIGTERM' ? 143 : 130);
    }
    this.signal = sig;
    this.onFirst(sig);
  }
}
