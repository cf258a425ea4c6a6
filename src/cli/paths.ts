// Every file a run reads and writes, checked in one place before any work starts: an output may
// never land on one of the run's inputs (however the path is spelt: relative, `..`, symlinks,
// hard links), may never replace anything but a regular file, must not be a folder, and its
// folder must be writable. A second run writing the same outputs is refused by the lock.
import { open, rm, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { UserError, fileError, fileProblem } from '../errors.js';
import { makeDirs } from '../make-dirs.js';

export interface InputFile {
  /** How the user named it, e.g. "corpus", "--val", "--resume". */
  what: string;
  path: string;
  /** Outputs (by `what`) that may replace this input: a resumed run's own checkpoints. */
  replacedBy?: string[];
}

export interface OutputFile {
  what: string;
  path: string;
}

const named = (f: { what: string; path: string }) => `${f.what} ${f.path}`;

async function statOrNull(f: { what: string; path: string }, verb: 'read' | 'write'): Promise<Stats | null> {
  try {
    return await stat(f.path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fileError(e, f.path, verb, f.what);
  }
}

const same = (a: Stats, b: Stats) => a.dev === b.dev && a.ino === b.ino;

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Refuses, with one line naming both files, any output that would overwrite an input or another output. */
export async function checkRunFiles(inputs: InputFile[], outputs: OutputFile[]): Promise<void> {
  const ins: [InputFile, Stats][] = [];
  for (const i of inputs) {
    const st = await statOrNull(i, 'read');
    if (st) ins.push([i, st]);
  }
  const outs: [OutputFile, Stats | null][] = [];
  for (const o of outputs) {
    if (/[/\\]$/.test(o.path)) throw new UserError(`${named(o)} names a folder; give a file name inside it, such as ${path.join(o.path, 'model.ckpt')}`);
    const st = await statOrNull(o, 'write');
    if (st?.isDirectory()) throw new UserError(`${named(o)} is a folder; give a file name inside it, such as ${path.join(o.path, 'model.ckpt')}`);
    if (st && !st.isFile()) throw new UserError(`${named(o)} is ${kindOf(st)}; charnn writes only to regular files or new paths`);
    if (st) {
      for (const [i, ist] of ins) {
        if (same(st, ist) && !i.replacedBy?.includes(o.what)) {
          throw new UserError(`${named(o)} is the same file as ${named(i)}; writing it would destroy the ${i.what === 'corpus' ? 'corpus' : 'input'}: choose another ${o.what}`);
        }
      }
    }
    for (const [p, pst] of outs) {
      if (path.resolve(p.path) === path.resolve(o.path) || (st && pst && same(st, pst))) {
        throw new UserError(`${named(o)} is the same file as ${named(p)}; give them different paths`);
      }
    }
    outs.push([o, st]);
  }
  for (const [o] of outs) await checkWritableFolder(o);
}

/** Creates the folder of an output if needed and proves it is writable. */
async function checkWritableFolder(o: OutputFile): Promise<void> {
  const dir = path.dirname(path.resolve(o.path));
  let step = 'create folder';
  try {
    await makeDirs(dir);
    step = 'write to folder';
    const probe = path.join(dir, `.charnn-write-test-${process.pid}`);
    const fh = await open(probe, 'w');
    await fh.close();
    await rm(probe, { force: true });
  } catch (e) {
    // A folder that is there but answers ENOENT to a new file is one the file system keeps for
    // itself (/proc/self), as with folders.
    const p = fileProblem(e, 'create folder');
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new UserError(`${named(o)}: cannot ${step} ${dir}: ${p ? `${p.why}; ${p.fix}` : `${code}; choose another path`}`);
  }
}
