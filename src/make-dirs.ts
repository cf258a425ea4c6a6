// `mkdir -p` that always ends. Node's recursive mkdir answers ENOENT on a child by creating the
// parent and trying the child again, for as long as the child says ENOENT; procfs and sysfs say
// ENOENT to every mkdir, so `--out /proc/x/model.ckpt` spun at 100% CPU forever with no output
// (strace: mkdir("/proc/x") ENOENT, mkdir("/proc") EEXIST, again and again). Here each missing
// folder is made once, outermost first, and the first refusal is final: at most one stat and one
// mkdir per component of the path.
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';

export async function makeDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    try {
      if ((await stat(d)).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR', syscall: 'mkdir', path: d });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || path.dirname(d) === d) throw e;
      missing.push(d);
    }
  }
  for (const d of missing.reverse()) {
    try {
      await mkdir(d);
    } catch (e) {
      // Made meanwhile by another run: fine if it is a folder, which the next mkdir or use shows.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}
