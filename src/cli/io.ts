// Standard output and error as the CLI uses them. A reader that goes away (`| head`) closes
// stdout: writes stop quietly and `closed` tells long work to stop or carry on without output.
// Any other write failure (a full disk behind `> file`) is kept as a one-line reason to report.
// Colour goes only to terminals, and NO_COLOR / FORCE_COLOR are honoured, per stream. TERM=dumb
// (Emacs shells, some CI logs) takes neither colour nor cursor movement.
import { Chalk, type ChalkInstance } from 'chalk';

export class Output {
  closed = false;
  failure: string | null = null;

  constructor(private readonly stream: NodeJS.WriteStream) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') this.closed = true;
      else this.failure ??= describeWriteError(e);
    });
  }

  /** False once nothing more can be written (closed or failed). */
  get ok(): boolean {
    return !this.closed && this.failure === null;
  }

  write(text: string): void {
    if (!this.ok) return;
    try {
      this.stream.write(text);
    } catch (e) {
      // Synchronous file writes may throw instead of emitting.
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EPIPE') this.closed = true;
      else this.failure ??= describeWriteError(err);
    }
  }

  /** Resolves once everything written so far has been handed to the OS (or the stream failed). */
  flush(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.ok) return resolve();
      this.stream.write('', () => resolve());
    });
  }

  get isTTY(): boolean {
    return !!this.stream.isTTY;
  }

  get columns(): number | undefined {
    return this.stream.columns;
  }

  /**
   * Whether a spinner may redraw lines here: a terminal that reports its width. A pseudo-terminal
   * given no size (`script` run without a terminal, some CI runners) reports 0 columns, and ora
   * then counts each of its lines as infinitely many to clear: it wrote half a gigabyte of
   * escape codes and never got past its first spinner. A dumb terminal cannot move its cursor.
   */
  get redraws(): boolean {
    return this.isTTY && (this.columns ?? 0) > 0 && process.env.TERM !== 'dumb';
  }
}

function describeWriteError(e: NodeJS.ErrnoException): string {
  if (e.code === 'ENOSPC') return 'no space left on the device';
  if (e.code === 'EDQUOT') return 'disk quota exceeded';
  if (e.code === 'EIO') return 'input/output error';
  return e.code ?? e.message;
}

/** 0 (none) to 3 (truecolor) for a stream: FORCE_COLOR wins, then NO_COLOR, then the terminal. */
export function colorLevel(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): 0 | 1 | 2 | 3 {
  const force = env.FORCE_COLOR;
  if (force !== undefined) {
    if (force === 'false' || force === '0') return 0;
    if (force === '' || force === 'true') return 1;
    const n = Number.parseInt(force, 10);
    return Number.isNaN(n) ? 1 : (Math.min(3, Math.max(0, n)) as 0 | 1 | 2 | 3);
  }
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  if (!stream.isTTY || env.TERM === 'dumb') return 0;
  return env.COLORTERM === 'truecolor' ? 3 : /256/.test(env.TERM ?? '') ? 2 : 1;
}

export const stdout = new Output(process.stdout);
export const stderr = new Output(process.stderr);
/** Colour for text written to stdout / stderr. */
export const outColor: ChalkInstance = new Chalk({ level: colorLevel(process.stdout) });
export const errColor: ChalkInstance = new Chalk({ level: colorLevel(process.stderr) });
