// One training run in the terminal: prepare it, guard it against signals, report its events,
// and end with the exit code the way it ended.
import { loadTrained } from '../train/record.js';
import { saveModel } from '../model/store.js';
import { train } from '../train/loop.js';
import { StopGuard } from './signals.js';
import { prepareRun, type TrainRequest } from './train-prepare.js';
import { TrainReport } from './train-report.js';
import { stdout } from './io.js';
import { makeUi } from './ui.js';

export type { TrainRequest } from './train-prepare.js';

export async function runTraining(req: TrainRequest): Promise<void> {
  const ui = makeUi(!!req.settings.json);
  const run = await prepareRun(req, ui);
  const f = run.settings;
  if (req.resume) {
    ui.note(`resuming ${f.resume} at step ${req.resume.file.training.step}` + (req.resume.changes.length ? `, with ${req.resume.changes.join(', ')}` : ''));
  }
  const report = new TrainReport(ui, f.steps !== undefined ? `${f.steps} steps` : `${f.time}s budget`, f.log);
  const guard = new StopGuard((sig) => report.stopping(sig));
  try {
    const s = await train({
      engine: run.engine, config: run.config, vocab: run.vocab, tokenizer: f.tokenizer, train: run.train, val: run.val, corpus: run.corpus,
      batch: f.batch, seq: f.seq, batching: f.batching, lr: f.lr, minLr: f.minLr ?? 0, decay: f.decay, warmup: f.warmup, clip: f.clip,
      weightDecay: f.weightDecay, dropout: f.dropout, weightDrop: f.weightDrop, steps: f.steps, seconds: f.time, seed: f.seed, evalEvery: f.evalEvery, evalChars: f.evalChars,
      patience: f.patience, out: run.out, latest: run.latest, saveEvery: f.saveEvery, stopAfter: f.stopAfter, resume: req.resume?.file,
      meta: { tokenizer: f.tokenizer, corpus_name: run.corpusName, split: run.split, documents: run.documents, corpus_chars: run.chars, doc_separator: run.separator, threads: f.threads ?? null, val_frac: f.valFrac, val_file: f.val ?? null, eval_every: f.evalEvery, eval_chars: f.evalChars, patience: f.patience, save_every: f.saveEvery },
      save: saveModel, load: loadTrained, shouldStop: () => guard.stopRequested,
      onEvent: (ev) => {
        if (ev.type === 'final-eval') guard.finalPhase = true;
        report.onEvent(ev);
      },
    });
    report.finish(s, run.config.cell, f.patience);
    if (s.stopped === 'interrupted') process.exitCode = guard.exitCode;
  } finally {
    guard.dispose();
    run.engine.dispose();
    await report.close();
    await stdout.flush();
  }
}
