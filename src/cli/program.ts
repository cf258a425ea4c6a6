// The whole command tree, built without parsing anything, so the README's flag table can be
// rendered from the same definitions the parser uses (src/cli/flag-table.ts).
import { Command } from 'commander';
import { registerBench } from './bench-command.js';
import { registerCorpus } from './corpus-command.js';
import { registerEval } from './eval-command.js';
import { registerInfo } from './info-command.js';
import { errColor } from './io.js';
import { registerSample } from './sample-command.js';
import { registerTrain } from './train-command.js';

export function buildProgram(): Command {
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
  return program;
}
