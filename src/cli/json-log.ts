// --log: the run's JSON lines appended to a file. Each line goes out whole in synchronous writes;
// a write that fails or stops short (a full disk) is cut back off the file, so the log never ends
// in half a line (a stream wrote part of the last line before its error), and logging stops with
// one warning while training goes on.
import { closeSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { fileProblem } from '../errors.js';

export class JsonLog {
  private fd: number | null = null;
  /** The file's length after the last whole line. */
  private size = 0;

  constructor(private readonly file: string, private readonly onStop: (why: string) => void) {
    try {
      this.fd = openSync(file, 'a');
      this.size = fstatSync(this.fd).size;
    } catch (e) {
      this.fail(e);
    }
  }

  write(obj: object): void {
    if (this.fd === null) return;
    const line = Buffer.from(JSON.stringify(obj) + '\n');
    try {
      for (let off = 0; off < line.length; ) off += writeSync(this.fd, line, off);
      this.size += line.length;
    } catch (e) {
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        // the warning below still says the log stopped
      }
      this.fail(e);
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private fail(e: unknown): void {
    this.close();
    this.onStop(fileProblem(e, 'write')?.why ?? (e as NodeJS.ErrnoException).code ?? String(e));
  }
}
