// Checks the CLI makes before long work starts, so a bad path fails in a second, not after an hour.
import { mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';

/** Creates the folder of `file` if needed and proves it is writable. */
export async function checkWritableFolder(file: string, flag: string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  try {
    await mkdir(dir, { recursive: true });
    const probe = path.join(dir, `.charnn-write-test-${process.pid}`);
    const fh = await open(probe, 'w');
    await fh.close();
    await rm(probe, { force: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new UserError(`${flag} ${file}: cannot write to folder ${dir} (${code}); choose another path`);
  }
}
