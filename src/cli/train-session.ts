// One training run in the terminal: prepare it, guard it against signals, report its events,
// and end with the exit code the way it ended. Signals: the first stops the run after the current
// step (once training is over, it cuts the final validation short), the second also cuts short an
// evaluation in progress, and neither ever cuts a save; the third quits at once.
import { loadModel } from '../model/store.js';
import { budgetSpent } from '../train/resume.js';
import { saveModel } from '../model/store.js';
import { train } from '../train/loop.js';
import { StopGuard } from './signals.js';
import { prepareRun, type TrainRequest } from './train-prepare.js';
import { TrainReport } from './train-report.js';
import { stdout } from './io.js';
import { jsonLine, makeUi } from './ui.js';

export type { TrainRequest } from './train-prepare.js';

export async function runTraining(req: TrainRequest): Promise<void> {
  const ui = makeUi(!!req.settings.json);
  const spent = req.resume && budgetSpent(req.settings, req.resume.file, req.settings.resume!);
  if (spent) {
    // Nothing to do is not an error: rerunning a finished resume (a script's retry) succeeds.
    if (ui.json) jsonLine({ type: 'nothing-to-train', step: req.resume!.file.training.step, message: spent });
    ui.note(spent);
    return;
  }
  const run = await prepareRun(req, ui);
  const f = run.settings;
  if (req.resume) {
    ui.note(`resuming ${f.resume} at step ${req.resume.file.training.step}` + (req.resume.changes.length ? `, with ${req.resume.changes.join(', ')}` : ''));
  }
  for (const note of run.notes) ui.note(note);
  const report = new TrainReport(ui, f.steps !== undefined ? `${f.steps} steps` : `${f.time}s budget`, f.log);
  const files = { latest: run.latest, out: run.out, final: false };
  const cut = new AbortController();
  const guard = new StopGuard((sig, count) => {
    const slowOnly = count >= 2 || files.final;
    if (slowOnly) cut.abort();
    report.signal(sig, count, slowOnly ? 'cut' : 'stop', files);
  }, { quitAt: 3, onQuit: (sig) => report.signal(sig, 3, 'quit', files) });
  try {
    const s = await train({
      engine: run.engine, config: run.config, vocab: run.vocab, train: run.train, val: run.val, settings: f,
      source: { corpus: run.corpus, corpusName: run.corpusName, split: run.split, documents: run.documents, chars: run.chars, separator: run.separator }, out: run.out, latest: run.latest,
      resume: req.resume?.file, texts: run.texts,
      save: saveModel, load: loadModel, shouldStop: () => guard.stopRequested, signal: cut.signal,
      onEvent: (ev) => {
        if (ev.type === 'final-eval') files.final = true;
        report.onEvent(ev);
      },
    });
    report.finish(s, run.config.cell, f.patience, req.resume?.file.training.step);
    if (s.stopped === 'interrupted') process.exitCode = guard.exitCode;
  } finally {
    guard.dispose();
    run.engine.dispose();
    await report.close();
    await stdout.flush();
  }
}
