// `-` as a text: standard input, copied whole into a temporary file first (training needs the
// whole text, and evaluation then cuts it exactly as it cuts a file, so both give the same
// figures). The copy is removed on every way out: when its run is done with it, on an error, and
// when the process exits or is stopped by a signal, even one that arrives while it is being read.
import { createWriteStream, rmSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../errors.js';
import { tempPathFor } from '../text/cache.js';
import { stderr } from './io.js';
import { makeDirs } from '../make-dirs.js';

export const STDIN = '-';

const copies = new Set<string>();
let exitHooked = false;

function removeAll(): void {
  for (const f of copies) rmSync(f, { force: true });
  copies.clear();
}

/**
 * Ends the process on a signal only when no one else listens for it: a StopGuard, when one is
 * installed, decides (its second signal exits, and the exit hook then removes the copies).
 */
function onSignal(sig: NodeJS.Signals): void {
  if (process.listenerCount(sig) > 1) return;
  removeAll();
  process.exit(sig === 'SIGTERM' ? 143 : 130);
}

function track(file: string): void {
  if (!exitHooked) {
    process.on('exit', removeAll);
    exitHooked = true;
  }
  if (copies.size === 0) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  copies.add(file);
}

function untrack(file: string): void {
  copies.delete(file);
  if (copies.size === 0) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export interface StdinCopy {
  path: string;
  bytes: number;
  remove(): Promise<void>;
}

/** Reads standard input to its end into a new hidden file in `dir`. */
export async function copyStdin(dir: string, input: NodeJS.ReadableStream = process.stdin): Promise<StdinCopy> {
  const file = tempPathFor(path.join(path.resolve(dir), 'stdin.txt'));
  track(file);
  const remove = async () => {
    await rm(file, { force: true });
    untrack(file);
  };
  try {
    await makeDirs(path.dirname(file));
    await pipeline(input, createWriteStream(file, { flags: 'wx' }));
    const bytes = (await stat(file)).size;
    if (bytes === 0) throw new UserError('standard input is empty: pipe a text into it, e.g. `cat a.txt | charnn train -`');
    return { path: file, bytes, remove };
  } catch (e) {
    await remove();
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`standard input: cannot keep a copy in ${dir} (${code === 'ENOSPC' ? 'no space left on the device' : code ?? (e as Error).message})`);
  }
}

/** Hands out the one copy of standard input a command may read; `-` given twice is an error. */
export class StdinOnce {
  private copy: StdinCopy | null = null;

  constructor(private readonly dir: string) {}

  async take(what: string): Promise<StdinCopy> {
    if (this.copy) throw new UserError(`${what}: standard input (-) can be read only once; give it once`);
    // A terminal sends nothing until typed at: say what is awaited rather than seem to hang.
    if (process.stdin.isTTY) stderr.write('reading the text from standard input (end it with Ctrl-D)\n');
    this.copy = await copyStdin(this.dir);
    return this.copy;
  }

  async dispose(): Promise<void> {
    await this.copy?.remove();
  }
}
