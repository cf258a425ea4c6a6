// Fetching one file over HTTP(S) into place: redirects followed, progress reported, size and
// sha256 checked while the bytes stream to a temporary file beside the destination, which is
// renamed into place only when everything matched. Any failure (refused connection, HTTP error,
// dropped connection, short body, checksum mismatch) removes the temporary file.
import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';
import { makeDirs } from '../make-dirs.js';
import { tempPathFor } from './cache.js';
import { hashFile, htmlNote } from './verified.js';

export interface Progress {
  done: number;
  /** From the expected size or Content-Length; null when neither is known. */
  total: number | null;
}

export interface Expected {
  bytes?: number;
  /** Lower-case hex; null or absent skips the checksum (the size is still checked when given). */
  sha256?: string | null;
}

export interface DownloadOptions extends Expected {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

export interface Verified {
  bytes: number;
  sha256: string;
}

/** The transfer itself failed (not the content): the caller may suggest a manual download. */
export class DownloadError extends UserError {
  constructor(readonly url: string, readonly reason: string) {
    super(`cannot download ${url}: ${reason}`);
    this.name = 'DownloadError';
  }
}

/** Downloads `url` to `dest` atomically; returns what was verified. */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<Verified> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', signal: opts.signal });
  } catch (e) {
    throw opts.signal?.aborted ? interrupted(url) : new DownloadError(url, networkReason(e));
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => {});
    throw new DownloadError(url, `HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`);
  }
  const length = Number(res.headers.get('content-length'));
  const total = opts.bytes ?? (Number.isSafeInteger(length) && length > 0 ? length : null);
  if (opts.bytes !== undefined && Number.isSafeInteger(length) && length > 0 && length !== opts.bytes) {
    await res.body.cancel().catch(() => {});
    throw new UserError(`${url} is ${length} bytes, expected ${opts.bytes}: refusing it (the catalogue or the server changed)`);
  }

  await makeDirs(path.dirname(dest));
  const tmp = tempPathFor(dest);
  const fh = await open(tmp, 'wx');
  try {
    const hash = createHash('sha256');
    let done = 0;
    opts.onProgress?.({ done, total });
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        await fh.write(chunk);
        done += chunk.length;
        opts.onProgress?.({ done, total });
      }
    } catch (e) {
      throw opts.signal?.aborted ? interrupted(url) : new DownloadError(url, `the connection broke after ${done} bytes (${networkReason(e)})`);
    }
    if (Number.isSafeInteger(length) && length > 0 && done !== length) {
      throw new DownloadError(url, `the connection ended after ${done} of ${length} bytes`);
    }
    const got = { bytes: done, sha256: hash.digest('hex') };
    checkExpected(got, opts, url);
    await fh.sync();
    await fh.close();
    await rename(tmp, dest);
    return got;
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Hashes a file already on disk (a download placed by hand) and checks it; `advice` (what to do
 * about a bad file) ends the message of a refusal.
 */
export async function verifyFile(file: string, expected: Expected, label = file, advice?: string): Promise<Verified> {
  const got = await hashFile(file);
  // A refusal says what the file looks like (an HTML error page saved in its place) only here.
  const ending = advice && !meets(got, expected) ? `${await htmlNote(file)}: refusing it; ${advice}` : undefined;
  checkExpected(got, expected, label, ending);
  return got;
}

const meets = (got: Verified, want: Expected) => (want.bytes === undefined || got.bytes === want.bytes) && (!want.sha256 || got.sha256 === want.sha256);

function checkExpected(got: Verified, want: Expected, what: string, ending = ': refusing it'): void {
  if (want.bytes !== undefined && got.bytes !== want.bytes) {
    throw new UserError(`${what} is ${got.bytes} bytes, expected ${want.bytes}${ending}`);
  }
  if (want.sha256 && got.sha256 !== want.sha256) {
    throw new UserError(`${what} failed its checksum: sha256 ${got.sha256}, expected ${want.sha256}${ending}`);
  }
}

function interrupted(url: string): UserError {
  return new UserError(`download of ${url} interrupted; nothing was kept`);
}

// fetch wraps socket errors as "fetch failed"/"terminated" with the useful code in `cause`.
function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.message) return cause.code && !cause.message.includes(cause.code) ? `${cause.code}: ${cause.message}` : cause.message;
  if (cause?.code) return cause.code;
  return e instanceof Error ? e.message : String(e);
}
