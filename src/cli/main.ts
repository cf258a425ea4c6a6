// The charnn command line. User errors become one line on stderr and a non-zero exit code;
// anything else is a bug and keeps its stack trace. A closed stdout (`| head`) is not an error;
// a failing one (a full disk behind `>`) is reported in one line.
import { CommanderError } from 'commander';
import { Command } from 'commander';
import { UserError } from '../errors.js';
import { registerBench } from './bench.js';
import { registerEval } from './eval.js';
import { registerInfo } from './info.js';
import { errColor, stderr, stdout } from './io.js';
import { registerSample } from './sample.js';
import { registerTrain } from './train.js';
import { registerCorpus } from './corpus.js';

const program = new Command('charnn')
  .description('train gated recurrent character-level language models, sample from them, measure their perplexity')
  .version('0.1.0')
  .configureOutput({ outputError: (text, write) => write(errColor.red(text)) })
  .exitOverride();

registerTrain(program);
registerSample(program);
registerEval(program);
registerInfo(program);
registerBench(program);
registerCorpus(program);

try {
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
  } else if (e instanceof UserError) {
    stderr.write(`${errColor.red('error:')} ${e.message}\n`);
    process.exitCode = 1;
  } else {
    throw e;
  }
}
