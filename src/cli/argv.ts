// Command-line arguments that are not UTF-8. Node decodes every argument as UTF-8 before any of
// charnn runs, putting U+FFFD where the bytes are not UTF-8 (a Latin-1 file name such as
// caf\xE9.txt), and the bytes are gone from process.argv: such a file was "no such file" although
// it exists, and `--out caf\xE9.ckpt` was written as a new file named "caf\uFFFD.ckpt".
//
// The bytes can be read back on Linux from /proc/self/cmdline, and Node's fs takes Buffer paths;
// but using them would mean Buffer paths through every file operation and every name derived
// from a path (temporary files, locks, the latest checkpoint, the default --out), in every
// module. An argument that is not UTF-8 is refused in one line instead, with the way out. The
// raw bytes serve to tell a U+FFFD the user typed from one Node made, and to show the bytes in
// the message; without /proc (macOS), any U+FFFD is taken for a lost byte.
import { readFileSync } from 'node:fs';

const LOST = '\uFFFD';

/** The message refusing the first argument that is not UTF-8, or null when all are. */
export function nonUtf8Argument(args: string[] = process.argv.slice(2), raw: Buffer[] | null = rawArguments(args)): string | null {
  for (let i = 0; i < args.length; i++) {
    if (!args[i].includes(LOST)) continue;
    const bytes = raw?.[i];
    if (bytes && isUtf8(bytes)) continue; // the user typed U+FFFD itself
    const where = i > 0 && args[i - 1].startsWith('-') ? `the argument after ${args[i - 1]}` : `argument ${i + 1}`;
    const shown = bytes ? escapeBytes(bytes) : args[i];
    return `${where} is not valid UTF-8 ("${shown}"): charnn takes its arguments as UTF-8 only; for a file, rename it (convmv -f latin1 -t utf-8) or give a link to it with a UTF-8 name`;
  }
  return null;
}

/**
 * The user's arguments as the bytes they were given, from /proc/self/cmdline: its last entries
 * are the arguments (node's own options come before the script). Null where it cannot be read or
 * does not agree with process.argv (a changed process title).
 */
function rawArguments(args: string[]): Buffer[] | null {
  let cmdline: Buffer;
  try {
    cmdline = readFileSync('/proc/self/cmdline');
  } catch {
    return null;
  }
  const parts: Buffer[] = [];
  for (let start = 0, i = 0; i < cmdline.length; i++) {
    if (cmdline[i] === 0) {
      parts.push(cmdline.subarray(start, i));
      start = i + 1;
    }
  }
  if (parts.length < args.length) return null;
  const tail = parts.slice(parts.length - args.length);
  return tail.every((b, i) => b.toString('utf8') === args[i]) ? tail : null;
}

function isUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

/** The bytes as text, each one that is not part of a valid UTF-8 character written \xHH. */
function escapeBytes(b: Buffer): string {
  let out = '';
  for (let i = 0; i < b.length; ) {
    const n = utf8Length(b, i);
    if (n > 0) {
      out += b.subarray(i, i + n).toString('utf8');
      i += n;
    } else {
      out += `\\x${b[i].toString(16).toUpperCase().padStart(2, '0')}`;
      i++;
    }
  }
  return out;
}

// The length of the valid UTF-8 character at b[i], or 0.
function utf8Length(b: Buffer, i: number): number {
  for (let n = 1; n <= 4 && i + n <= b.length; n++) {
    if (isUtf8(b.subarray(i, i + n)) && b.subarray(i, i + n).toString('utf8').length > 0) return n;
  }
  return 0;
}
