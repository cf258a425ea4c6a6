// Errors the user can fix (bad flag, missing file, foreign checkpoint). The CLI prints their
// message on one line and exits non-zero with no stack trace; anything else is a bug and keeps
// its stack.
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** What was being done to a file when the system refused, as it reads in a message. */
export type FileVerb = 'read' | 'write' | 'open' | 'create folder';

interface Problem {
  why: string;
  fix: string;
}

// The one table of file-system failures a user can act on. A code missing here (EBADF, EINVAL...)
// points at a bug in charnn, not at the user's files, and keeps its stack trace.
const PROBLEMS: Record<string, Problem> = {
  ENOENT: { why: 'no such file or folder', fix: 'check the path' },
  ENOTDIR: { why: 'a parent of it is not a folder', fix: 'check the path' },
  EISDIR: { why: 'it is a folder', fix: 'give a file name' },
  ELOOP: { why: 'too many levels of symbolic links (a link that leads back to itself?)', fix: 'fix the link or give the real path' },
  ENAMETOOLONG: { why: 'the name is too long for the file system', fix: 'choose a shorter path' },
  EACCES: { why: 'permission denied', fix: 'check the permissions of the file and the folders above it' },
  EPERM: { why: 'permission denied', fix: 'check the permissions of the file and the folders above it' },
  EROFS: { why: 'read-only file system', fix: 'choose a path on a writable disk' },
  ENOSPC: { why: 'no space left on the device', fix: 'free some space or choose another disk' },
  EDQUOT: { why: 'disk quota exceeded', fix: 'free some space or choose another disk' },
  EFBIG: { why: 'the file is too large for its file system', fix: 'choose another disk' },
  EIO: { why: 'input/output error', fix: 'check the disk or the network share' },
  ENXIO: { why: 'no such device', fix: 'give a regular file' },
  ENODEV: { why: 'no such device', fix: 'give a regular file' },
  ESTALE: { why: 'stale file handle (the network share changed)', fix: 'try again' },
  EBUSY: { why: 'the file or device is busy', fix: 'try again once it is free' },
  ETXTBSY: { why: 'the file is busy', fix: 'try again once it is free' },
  EMFILE: { why: 'too many open files', fix: 'raise the limit (ulimit -n)' },
  ENFILE: { why: 'too many open files on this system', fix: 'try again later' },
};

// Where a file is missing, the same code means something else for each verb. A folder that
// answers ENOENT to mkdir although its parent exists is one the file system will not hold
// (procfs, sysfs).
const MISSING: Record<FileVerb, Problem> = {
  read: PROBLEMS.ENOENT,
  open: PROBLEMS.ENOENT,
  write: { why: 'its folder does not exist (removed meanwhile?)', fix: 'create the folder or choose another path' },
  'create folder': { why: 'the file system does not allow one there', fix: 'choose another path' },
};

const codeOf = (e: unknown) => (e as NodeJS.ErrnoException | null)?.code ?? '';

/** The reason and remedy for a file-system error, or null when it is not about the user's files. */
export function fileProblem(e: unknown, verb: FileVerb = 'read'): Problem | null {
  const code = codeOf(e);
  return code === 'ENOENT' ? MISSING[verb] : (PROBLEMS[code] ?? null);
}

/**
 * A failed file operation as one line naming the file (and the flag or role, `what`) and what to
 * do; an error that is not about the file comes back unchanged. Every path the CLI reads or
 * writes reaches the user through here.
 */
export function fileError(e: unknown, file: string, verb: FileVerb = 'read', what?: string): Error {
  if (e instanceof UserError) return e;
  const p = fileProblem(e, verb);
  if (!p) return e instanceof Error ? e : new Error(String(e));
  const name = what ? `${what} ${file}` : file;
  if (codeOf(e) === 'ENOENT' && verb !== 'write' && verb !== 'create folder') return new UserError(`no such file: ${name}`);
  return new UserError(`cannot ${verb} ${name}: ${p.why}; ${p.fix}`);
}

// The verb a system call stands for, for errors that reach the CLI without a caller's context.
const VERBS: Record<string, FileVerb> = {
  read: 'read', scandir: 'read', readlink: 'read',
  write: 'write', rename: 'write', unlink: 'write', rmdir: 'write', fsync: 'write', ftruncate: 'write', copyfile: 'write', link: 'write', symlink: 'write',
  mkdir: 'create folder',
};

/**
 * The last resort: a file-system error that reached the CLI from a place that did not word it
 * (it carries the path the system refused), as a user error; null for anything else.
 */
export function uncaughtFileError(e: unknown): UserError | null {
  const err = e as NodeJS.ErrnoException | null;
  if (!(err instanceof Error) || typeof err.path !== 'string' || !fileProblem(err)) return null;
  return fileError(err, err.path, VERBS[err.syscall ?? ''] ?? 'open') as UserError;
}
