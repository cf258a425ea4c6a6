// One run at a time owns an output: a lock file beside it holds the owner's process id. A lock
// whose process is gone (killed, crashed) is stale and taken over; a live one refuses the run.
// Locks are released when the process exits, however it exits short of SIGKILL.
import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';

const held = new Set<string>();
let hooked = false;

export function lockPath(file: string): string {
  return path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.lock`);
}

/** Whether a process with this id exists (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock on `file` for this process, or throws a UserError naming the run that holds it.
 * `what` names the output in the message (e.g. "--out").
 */
export function acquireLock(file: string, what: string): void {
  const lock = lockPath(file);
  if (held.has(lock)) return;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      held.add(lock);
      if (!hooked) {
        hooked = true;
        process.on('exit', releaseAll);
      }
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner = NaN;
    try {
      owner = Number.parseInt(readFileSync(lock, 'utf8'), 10);
    } catch {
      continue; // removed meanwhile: try again
    }
    if (processAlive(owner) && owner !== process.pid) {
      throw new UserError(`${what} ${file} is being written by another charnn run (process ${owner}); wait for it to end or choose another ${what}`);
    }
    rmSync(lock, { force: true }); // stale: its process is gone
  }
  throw new UserError(`${what} ${file}: could not take the lock ${lock}; remove it if no charnn run is using ${file}`);
}


function releaseAll(): void {
  for (const lock of held) rmSync(lock, { force: true });
  held.clear();
}
