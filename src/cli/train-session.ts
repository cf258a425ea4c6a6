// One training run in the terminal: corpus, backend, progress or JSON lines, the --log file,
// Ctrl-C / SIGTERM handling, and the closing chart and summary.
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import chalk from 'chalk';
import ora, { type Ora } from 'ora';
import { savesInFlight } from '../checkpoint/index.js';
import { createEngine } from '../engine/select.js';
import { UserError } from '../errors.js';
import { validateConfig } from '../model/config.js';
import type { ModelFile } from '../model/serialize.js';
import { loadModel, saveModel } from '../model/store.js';
import { ensureBrownCorpus, readCorpus, splitIds, type IdArray } from '../text/index.js';
import { train, type TrainEvent } from '../train/loop.js';
import { sizeToBudget } from '../train/autosize.js';
import { lossChart, type LossHistory } from './chart.js';
import { checkWritableFolder } from './files.js';
import { TrainProgress } from './progress.js';
import { defaultOut, type TrainFlags } from './train.js';
import { fmt, fmtInt, jsonLine, makeUi } from './ui.js';

export async function runTraining(corpusArg: string | undefined, f: TrainFlags, resume?: { file: ModelFile; changes: string[] }): Promise<void> {
  const ui = makeUi(!!f.json);
  const corpus = corpusArg ?? (await ui.wait('Preparing the embedded Brown corpus', ensureBrownCorpus));
  const out = f.out ?? defaultOut(corpus);
  const latest = out.replace(/\.ckpt$/, '') + '.latest.ckpt';
  await checkWritableFolder(out, '--out');
  const log = f.log ? await openLog(f.log) : null;

  const text = await ui.wait(`Reading ${corpus}`, () => readCorpus(corpus));
  if (resume && JSON.stringify(text.vocab.toJSON()) !== JSON.stringify(resume.file.vocab.toJSON())) {
    throw new UserError(`${corpus} is not the text ${f.resume} was trained on (its characters differ); pass the original corpus`);
  }
  let trainIds: IdArray, valIds: IdArray;
  if (f.val) {
    const val = await ui.wait(`Reading ${f.val}`, () => readCorpus(f.val!, { vocab: text.vocab }));
    if (val.unknown > 0) ui.note(chalk.yellow(`${f.val}: skipped ${val.unknown} characters that ${corpus} does not contain`));
    trainIds = text.ids;
    valIds = val.ids;
  } else {
    ({ train: trainIds, val: valIds } = splitIds(text.ids, f.valFrac, corpus));
  }
  const steps = f.steps;
  const { engine, reason } = await ui.wait(`Starting the ${f.backend} backend`, () => createEngine(f.backend, { threads: f.threads }));
  if (f.backend === 'auto') ui.note(`backend: ${chalk.bold(engine.name)} (${reason})`);
  if (f.autosize) {
    const sized = await ui.wait(`Sizing a ${f.model} to a ${f.time}s budget on this machine`, () => sizeToBudget(engine, f.model, text.vocab.size, f.time!));
    Object.assign(f, { layers: sized.layers, hidden: sized.hidden, embed: sized.embed, mlp: sized.mlp, batch: sized.batch, seq: sized.seq, lr: sized.lr, dropout: sized.dropout });
    if (ui.json) jsonLine({ type: 'autosize', ...sized });
    ui.note(`model for this budget: ${sized.cell} ${sized.layers}×${sized.hidden}${sized.mlp ? ` (MLP ${sized.mlp}×)` : ''}, embedding ${sized.embed}, batch ${sized.batch}×${sized.seq}, lr ${sized.lr} (${fmtInt(sized.charsPerSec)} chars/s here)`);
  }
  const config = resume?.file.config ?? validateConfig({ cell: f.model, vocab: text.vocab.size, embed: f.embed, hidden: f.hidden, layers: f.layers, mlp: f.mlp });
  if (resume) {
    ui.note(`resuming ${f.resume} at step ${resume.file.training.step}` + (resume.changes.length ? `, with ${resume.changes.join(', ')}` : ''));
  }

  // First Ctrl-C/SIGTERM: finish the step, save, exit 130/143. Second: leave at once; a save in
  // progress is abandoned (its temporary file removed), so no checkpoint file is touched.
  let signal: NodeJS.Signals | null = null;
  let finalPhase = false;
  const quitNow = (sig: NodeJS.Signals) => {
    for (const tmp of savesInFlight) rmSync(tmp, { force: true });
    process.exit(sig === 'SIGTERM' ? 143 : 130);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (signal || finalPhase) quitNow(sig);
    signal = sig;
    if (!ui.json) process.stderr.write(`\n${chalk.yellow(`${sig}: stopping after this step and saving; press Ctrl-C again to quit at once`)}\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const history: LossHistory = { train: [], val: [] };
  const progress = ui.json ? null : new TrainProgress(steps !== undefined ? `${steps} steps` : `${f.time}s budget`);
  let finalSpinner: Ora | null = null;
  const onEvent = (ev: TrainEvent) => {
    const line = ev.type === 'step' ? { ...ev, loss: round(ev.loss), charsPerSec: Math.round(ev.charsPerSec) } : ev;
    log?.write(JSON.stringify(line) + '\n');
    if (ev.type === 'step') history.train.push({ step: ev.step, loss: ev.loss });
    if (ev.type === 'eval') history.val.push({ step: ev.step, loss: ev.valLoss });
    if (ev.type === 'final-eval') finalPhase = true;
    if (ui.json) return jsonLine(line);
    if (ev.type === 'save-failed') {
      progress?.stop();
      process.stderr.write(chalk.red(`could not save ${ev.path} at step ${ev.step}: ${ev.message}; the previous file is kept and training goes on\n`));
    } else if (ev.type === 'final-eval') {
      if (!finalSpinner) {
        progress!.stop();
        finalSpinner = ora({ stream: process.stderr, isSilent: !process.stderr.isTTY }).start();
      }
      finalSpinner.text = `Scoring the whole validation split: ${Math.floor((100 * ev.chars) / Math.max(1, ev.total))}%`;
    } else if (ev.type !== 'saved') {
      progress!.onEvent(ev);
    }
  };
  try {
    const s = await train({
      engine, config, vocab: text.vocab, train: trainIds, val: valIds, corpus,
      batch: f.batch, seq: f.seq, batching: f.batching, lr: f.lr, minLr: f.minLr ?? f.lr / 10, warmup: f.warmup, clip: f.clip,
      weightDecay: f.weightDecay, dropout: f.dropout, steps, seconds: f.time, seed: f.seed, evalEvery: f.evalEvery, evalChars: f.evalChars,
      patience: f.patience, out, latest, saveEvery: f.saveEvery, stopAfter: f.stopAfter, resume: resume?.file,
      meta: { threads: f.threads ?? null, val_frac: f.valFrac, val_file: f.val ?? null, eval_every: f.evalEvery, eval_chars: f.evalChars, patience: f.patience, save_every: f.saveEvery },
      save: saveModel, load: loadModel, shouldStop: () => signal !== null, onEvent,
    });
    progress?.stop();
    (finalSpinner as Ora | null)?.stop();
    if (ui.json) {
      jsonLine({
        type: 'summary', ...s, train_loss: round(s.train_loss), val_loss: s.val_loss === null ? null : round(s.val_loss),
        val_bpc: s.val_bpc === null ? null : round(s.val_bpc), chars_per_sec: Math.round(s.chars_per_sec),
      });
    } else if (s.stopped === 'interrupted' || s.stopped === 'stop-after') {
      process.stderr.write(`${chalk.yellow('stopped')} at step ${s.steps}; saved ${chalk.cyan(s.latest)} (resume with --resume ${s.latest})\n`);
    } else {
      const chart = lossChart(history);
      if (chart) process.stderr.write(chart + '\n');
      process.stderr.write(
        `${chalk.bold('trained')} ${s.steps} steps of a ${fmtInt(s.params)}-parameter ${config.cell} on ${chalk.bold(s.backend)} in ${s.seconds.toFixed(1)} s (${fmtInt(s.chars_per_sec)} chars/s)` +
          (s.stopped === 'patience' ? `, stopped early after ${f.patience} estimates without improvement` : '') + '\n' +
          `train loss ${fmt(s.train_loss)}  ${chalk.green(`validation loss ${fmt(s.val_loss!)} nats/char (${fmt(s.val_bpc!)} bits/char)`)}\n` +
          `checkpoint ${chalk.cyan(s.checkpoint)} (latest state: ${s.latest})\n`,
      );
    }
    if (s.stopped === 'interrupted') process.exitCode = signal === 'SIGTERM' ? 143 : 130;
  } finally {
    progress?.stop();
    engine.dispose();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await new Promise<void>((done) => (log ? log.end(done) : done()));
  }
}

async function openLog(file: string): Promise<WriteStream> {
  await checkWritableFolder(file, '--log');
  return createWriteStream(file, { flags: 'a' });
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
