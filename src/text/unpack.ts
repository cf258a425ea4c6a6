// Taking the text out of a downloaded archive with maintained libraries: yauzl for zip (it reads
// the central directory, so sizes are checked and members are found without scanning), node-tar
// for tarballs (it refuses entries that would land outside the target folder).
import { createWriteStream } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import yauzl from 'yauzl';
import { UserError } from '../errors.js';

/** Writes the zip member `member` of `zipFile` to `dest` (which must not exist yet). */
export async function extractZipMember(zipFile: string, member: string, dest: string): Promise<void> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(zipFile, { lazyEntries: true, autoClose: false }, (err, z) => (err ? reject(zipError(zipFile, err)) : resolve(z))),
  );
  try {
    const entry = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
      zip.on('entry', (e: yauzl.Entry) => (e.fileName === member ? resolve(e) : zip.readEntry()));
      zip.on('end', () => resolve(undefined));
      zip.on('error', (err: Error) => reject(zipError(zipFile, err)));
      zip.readEntry();
    });
    if (!entry) throw new UserError(`${zipFile} has no member ${member}`);
    const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
      zip.openReadStream(entry, (err, s) => (err ? reject(zipError(zipFile, err)) : resolve(s))),
    );
    try {
      await pipeline(stream, createWriteStream(dest, { flags: 'wx' }));
    } catch (e) {
      throw zipError(zipFile, e as Error);
    }
  } finally {
    zip.close();
  }
}

/**
 * Unpacks a tarball (gzip detected from its bytes) into a new folder inside `scratchParent` and
 * returns that folder; the caller removes it.
 */
export async function extractTar(tarFile: string, scratchParent: string, filter?: (entryPath: string) => boolean): Promise<string> {
  const dir = await mkdtemp(path.join(scratchParent, '.unpack-'));
  try {
    await tar.x({ file: tarFile, cwd: dir, strict: true, filter: filter ? (p) => filter(normalise(p)) : undefined });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw new UserError(`${tarFile} is not a readable tarball: ${(e as Error).message}`);
  }
  return dir;
}

/** Writes the tar member `member` of `tarFile` to `dest` (which must not exist yet). */
export async function extractTarMember(tarFile: string, member: string, dest: string): Promise<void> {
  const dir = await extractTar(tarFile, path.dirname(dest), (p) => p === normalise(member));
  try {
    await rename(path.join(dir, normalise(member)), dest).catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'ENOENT' ? new UserError(`${tarFile} has no member ${member}`) : e;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function normalise(p: string): string {
  return p.replace(/^(\.\/)+/, '');
}

function zipError(file: string, e: Error): Error {
  return e instanceof UserError ? e : new UserError(`${file} is not a readable zip file: ${e.message}`);
}
