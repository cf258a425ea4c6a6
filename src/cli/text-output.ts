// sample --output: the text goes to a temporary file beside its target and is renamed into place
// when sampling ends, so a run that fails or is stopped leaves the previous file as it was.
// Writes are synchronous, so a full disk is known at the first write that fails (a stream
// reported it only once the whole --length was generated) and sampling can stop there; a
// temporary file removed from under the run (its folder deleted) is noticed within a second.
// The temporary file is removed on every way out this process sees: an error, an uncaught
// exception (the 'exit' event), and a signal, through the checkpoint saves' own mechanism: it is
// one of savesInFlight, which StopGuard removes before it exits. One left by a process killed
// outright is removed the next time a run writes the same file, by the saves' sweep of dead
// processes' temporaries.
import { closeSync, fstatSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { removeStaleTemporaries, savesInFlight } from '../checkpoint/index.js';
import { fileError, fileProblem } from '../errors.js';
import { tempPathFor } from '../text/cache.js';

export class TextOutput {
  /** Why writing stopped (a full disk), or null while all is well. */
  failure: unknown = null;
  private fd: number | null = null;
  private done = false;
  private lastLinkCheck = performance.now();
  private readonly onExit = () => this.abandon();

  private constructor(private readonly file: string, private readonly tmp: string, private readonly what: string) {
    savesInFlight.add(tmp);
    process.on('exit', this.onExit);
    try {
      this.fd = openSync(tmp, 'wx', 0o644);
    } catch (e) {
      this.abandon();
      throw e;
    }
  }

  static async open(file: string, what = '--output'): Promise<TextOutput> {
    const target = path.resolve(file);
    await removeStaleTemporaries(path.dirname(target), path.basename(target));
    const tmp = tempPathFor(target);
    try {
      return new TextOutput(file, tmp, what);
    } catch (e) {
      throw fileError(e, file, 'write', what);
    }
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  /** Writes all of `text`, or records why it could not and writes nothing more. */
  write(text: string): void {
    if (this.fd === null || this.failed) return;
    const bytes = Buffer.from(text);
    try {
      for (let off = 0; off < bytes.length; ) off += writeSync(this.fd, bytes, off);
      // Writes to a file whose folder was removed still succeed; only the rename at the end fails.
      if (performance.now() - this.lastLinkCheck > 500) {
        this.lastLinkCheck = performance.now();
        if (fstatSync(this.fd).nlink === 0) throw Object.assign(new Error('temporary file removed'), { code: 'ENOENT' });
      }
    } catch (e) {
      this.failure = e;
    }
  }

  /** Puts the text in place of the target; a failed write or rename is a one-line error and leaves the target as it was. */
  commit(): void {
    try {
      if (this.failed) throw this.failure;
      fsyncSync(this.fd!);
      closeSync(this.fd!);
      this.fd = null;
      renameSync(this.tmp, this.file);
      this.done = true;
    } catch (e) {
      throw fileProblem(e, 'write') ? fileError(e, this.file, 'write', this.what) : e;
    } finally {
      this.abandon();
    }
  }

  /** Removes the temporary file (nothing once committed), and forgets it. */
  abandon(): void {
    savesInFlight.delete(this.tmp);
    process.off('exit', this.onExit);
    try {
      if (this.fd !== null) closeSync(this.fd);
    } catch {
      // the file is removed below all the same
    }
    this.fd = null;
    if (!this.done) rmSync(this.tmp, { force: true });
    this.done = true;
  }
}
