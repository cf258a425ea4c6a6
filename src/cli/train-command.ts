// `charnn train`: the flags (from the settings table), the resume rules, then a training session.
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { SIZED_CELLS } from '../train/autosize.js';
import { loadModel } from '../model/store.js';
import { resumeSettings } from '../train/resume.js';
import { TRAIN_SETTINGS, type TrainSettings } from '../model/settings.js';
import { addFlags } from './parse.js';
import { runTraining, type TrainRequest } from './train-session.js';

export function registerTrain(program: Command): void {
  const cmd = program
    .command('train')
    .description('train a character-level model on a UTF-8 text file (default: the embedded Brown corpus)')
    .argument('[corpus...]', 'UTF-8 text file to train on (the last --val-frac of it validates), - for standard input, a catalogue corpus name, or folders and several files (every text file, in name order; the last files, --val-frac of the text, validate)');
  addFlags(cmd, TRAIN_SETTINGS)
    .addHelpText('after', `
Example:
  charnn train corpora/tinyshakespeare.txt --model lstm --layers 2 --hidden 128 --embed 64 \\
      --batch 32 --seq 64 --steps 300 --out checkpoints/shakespeare.ckpt
  charnn train --resume checkpoints/shakespeare.latest.ckpt --steps 600
  charnn train letters/ --time 5m              # every text file under letters/, whole files validate
  some-command | charnn train - --out checkpoints/piped.ckpt`)
    .action(async (corpus: string[], f: TrainSettings, c: Command) => {
      const given = (key: keyof TrainSettings) => c.getOptionValueSource(key) === 'cli';
      await runTraining(await request(corpus, f, given));
    });
}

async function request(args: string[], f: TrainSettings, given: (key: keyof TrainSettings) => boolean): Promise<TrainRequest> {
  const corpus = args.length === 0 ? undefined : args.length === 1 ? args[0] : args;
  if (f.newData && !f.resume) throw new UserError('--new-data goes with --resume (it lets a resumed run train on another text); leave it out to start a new run');
  if (f.resume) {
    const file = await loadModel(f.resume);
    const { settings, changes } = resumeSettings(f, given, file, f.resume);
    // A catalogue corpus is found again by name, so its standard split applies again.
    // Several files are recorded one per line.
    const recorded = typeof file.training.corpus_name === 'string' ? file.training.corpus_name : file.training.corpus.split('\n');
    return { corpus: corpus ?? recorded, settings, resume: { file, changes }, autosize: false };
  }
  if (f.steps === undefined && f.time === undefined) f.time = 600;
  let autosize = f.steps === undefined && !TRAIN_SETTINGS.some((s) => s.sizing && given(s.key));
  if (autosize && !given('model')) f.model = 'gru';
  if (!SIZED_CELLS.includes(f.model)) autosize = false;
  return { corpus, settings: f, autosize };
}
