// The charnn command line. User errors become one line on stderr and a non-zero exit code, and so
// does a file-system error about a path that no caller worded (a symlink loop, a folder without
// permission); anything else is a bug and keeps its stack trace. A closed stdout (`| head`) is not
// an error; a failing one (a full disk behind `>`) is reported in one line.
import { CommanderError } from 'commander';
import { UserError, uncaughtFileError } from '../errors.js';
import { nonUtf8Argument } from './argv.js';
import { errColor, stderr, stdout } from './io.js';
import { buildProgram } from './program.js';

const program = buildProgram();

try {
  const notUtf8 = nonUtf8Argument();
  if (notUtf8) throw new UserError(notUtf8);
  await program.parseAsync(process.argv);
  await stdout.flush();
  if (stdout.failure) {
    stderr.write(`${errColor.red('error:')} cannot write to standard output: ${stdout.failure}\n`);
    process.exitCode = 1;
  }
} catch (e) {
  if (e instanceof CommanderError) {
    // Commander has already printed its one-line message (or the help/version text).
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else {
    const user = e instanceof UserError ? e : uncaughtFileError(e);
    if (!user) throw e;
    stderr.write(`${errColor.red('error:')} ${user.message}\n`);
    process.exitCode = 1;
  }
}
