// Everything a training run needs before its first step, checked before any work starts: the
// files it reads and writes, the locks on its outputs, the settings that depend on each other,
// the corpus and its split, the engine, and the model size when the budget chooses it.
import path from 'node:path';
import { acquireLock } from '../checkpoint/lock.js';
import type { Engine } from '../engine/engine-api.js';
import { createEngine, type BackendName } from '../select/create-engine.js';
import { UserError } from '../errors.js';
import { validateConfig, type ModelConfig } from '../model/config.js';
import type { ModelFile } from '../model/serialize.js';
import { fingerprint, readCorpus, splitIds, type IdArray, type Vocab } from '../text/index.js';
import { documentSplit, findTrainingText, readTrainingText, separatorOf } from './train-text.js';
import type { CorpusSplit } from '../text/corpora.js';
import { byteOfChar, charsBeforeByte } from '../text/utf8.js';
import type { TokenizerKind } from '../text/tokenizer.js';
import { GPU_PROBE_BATCH, sizeToBudget } from '../train/autosize.js';
import { checkResumeText, resumedBest, type RunTexts } from '../train/resume.js';
import { crossCheck, type TrainSettings } from '../model/settings.js';
import { checkRunFiles, type InputFile } from './paths.js';
import { errColor as c } from './io.js';
import { capThreads } from './common-flags.js';
import { fmtInt, jsonLine, type Ui } from './ui.js';

export interface TrainRequest {
  /** A file, a folder, several of them, `-` for standard input, or a catalogue name; absent: brown. */
  corpus?: string | string[];
  settings: TrainSettings;
  resume?: { file: ModelFile; changes: string[] };
  /** No size or optimizer flag and a time budget: measure and choose them here. */
  autosize: boolean;
}

export interface PreparedRun {
  /** As the checkpoint records it: the path, `-`, or several paths one per line. */
  corpus: string;
  /** Documents in the text, the characters they hold, and the code point read between two (null for one). */
  documents: number;
  chars: number;
  separator: number | null;
  /** The catalogue name, when the corpus was given as one (or is the default). */
  corpusName: string | null;
  /** How validation was drawn, in words, for the checkpoint and `info`. */
  split: string;
  out: string;
  latest: string;
  settings: TrainSettings;
  vocab: Vocab;
  train: IdArray;
  val: IdArray;
  engine: Engine;
  config: ModelConfig;
  /** Fingerprints of `train` and `val`, for the checkpoint. */
  texts: RunTexts;
  /** A resume on another text (--new-data): the recorded best is dropped. */
  /** Lines for the user about the resume. */
  notes: string[];
}

export function defaultOut(corpus: string): string {
  const name = path.basename(corpus).replace(/\.[^.]*$/, '') || 'model';
  return path.join('checkpoints', `${name}.ckpt`);
}

export const latestOf = (out: string) => out.replace(/\.ckpt$/, '') + '.latest.ckpt';

export async function prepareRun(req: TrainRequest, ui: Ui): Promise<PreparedRun> {
  const f = { ...req.settings };
  const why = crossCheck(f);
  if (why) throw new UserError(why);
  f.threads = capThreads(f.threads, ui);
  const found = await findTrainingText(req.corpus, f, ui);
  const { corpus, resolved, name } = found;
  const out = f.out ?? defaultOut(found.outName);
  const latest = latestOf(out);
  const inputs: InputFile[] = [...found.inputs];
  if (f.val) inputs.push({ what: '--val', path: f.val });
  if (f.resume) inputs.push({ what: '--resume', path: f.resume, replacedBy: ['--out', 'latest checkpoint'] });
  const outputs = [{ what: '--out', path: out }, { what: 'latest checkpoint', path: latest }];
  if (f.log) outputs.push({ what: '--log', path: f.log });
  await checkRunFiles(inputs, outputs);
  acquireLock(out, '--out');
  acquireLock(latest, '--out');

  const text = await readTrainingText(found, f, ui, path.dirname(out));
  if (req.resume && JSON.stringify(text.vocab.toJSON()) !== JSON.stringify(req.resume.file.vocab.toJSON())) {
    throw new UserError(`${name} is not the text ${f.resume} was trained on (its characters differ); pass the original corpus`);
  }
  let train: IdArray, val: IdArray, split: string;
  if (f.val) {
    split = `the whole corpus trains; --val ${f.val} validates`;
    const v = await ui.wait(`Reading ${f.val}`, () => readCorpus(f.val!, { vocab: text.vocab, tokenizer: f.tokenizer }));
    if (v.unknown > 0) ui.note(c.yellow(`${f.val}: skipped ${v.unknown} characters that ${name} does not contain`));
    if (v.ids.length < 2) throw new UserError(`--val ${f.val} has ${v.ids.length} character${v.ids.length === 1 ? '' : 's'} the model knows; scoring needs at least 2`);
    [train, val] = [text.ids, v.ids];
  } else if (text.starts) {
    ({ train, val, split } = documentSplit({ ...text, starts: text.starts }, f, name));
  } else if (resolved.split) {
    const r = await symbolRanges(corpus, resolved.split, f.tokenizer);
    [train, val] = [text.ids.subarray(r.train[0], r.train[1]), text.ids.subarray(r.val[0], r.val[1])];
    const unit = f.tokenizer === 'bytes' ? 'bytes' : 'characters';
    split = `${resolved.name}'s standard split: ${unit} ${fmtInt(r.train[0])}–${fmtInt(r.train[1])} train, ${fmtInt(r.val[0])}–${fmtInt(r.val[1])} validate`;
  } else {
    ({ train, val } = splitIds(text.ids, f.valFrac, name));
    split = `the last ${f.valFrac * 100}% validates`;
  }
  const texts = { train: fingerprint(train), val: fingerprint(val) };
  const notes: string[] = [];
  let newBest = false;
  if (req.resume) {
    const names = f.val ? `${corpus} with --val ${f.val}` : corpus;
    const check = checkResumeText(req.resume.file, texts, { ckpt: f.resume!, names, newData: !!f.newData });
    newBest = check.newBest;
    if (check.note) notes.push(check.note);
    const t = req.resume.file.training;
    if (!newBest && t.best_val_loss !== null && !resumedBest(req.resume.file)) {
      notes.push(`${f.resume} does not hold its best weights (estimate ${t.best_val_loss.toFixed(4)} at step ${t.best_step ?? '?'}; written before charnn kept them), so this run starts a best-so-far of its own and its first estimate replaces ${out}`);
    }
  }

  const given = req.resume?.file.config ?? (req.autosize ? null : validateConfig({ cell: f.model, vocab: text.vocab.size, embed: f.embed, hidden: f.hidden, layers: f.layers, mlp: f.mlp, zoneout: f.zoneout, gateNorm: f.gateNorm }));
  // auto measures the backends at this model's shapes (a sized model: at the family's usual one,
  // a GPU at the larger batch sizing would give it).
  const shape = given ? { config: given, batch: f.batch, seq: f.seq } : undefined;
  const gpuBatch = req.autosize ? GPU_PROBE_BATCH : undefined;
  const { engine, reason } = await ui.wait(`Starting the ${f.backend} backend`, () => createEngine(f.backend as BackendName, { threads: f.threads, shape, gpuBatch }));
  try {
    if (f.backend === 'auto') ui.note(`backend: ${c.bold(engine.name)} (${reason})`);
    if (req.autosize) {
      const sized = await ui.wait(`Sizing a ${f.model} to a ${f.time}s budget on this machine`, () => sizeToBudget(engine, f.model, text.vocab.size, f.time!, train.length));
      Object.assign(f, { layers: sized.layers, hidden: sized.hidden, embed: sized.embed, mlp: sized.mlp, gateNorm: sized.gateNorm, batch: sized.batch, seq: sized.seq, lr: sized.lr, dropout: sized.dropout });
      if (ui.json) jsonLine({ type: 'autosize', ...sized });
      ui.note(`model for this budget: ${sized.cell} ${sized.layers}×${sized.hidden}${sized.mlp ? ` (MLP ${sized.mlp}×)` : ''}${sized.gateNorm ? ' with normalised gates' : ''}, embedding ${sized.embed}, batch ${sized.batch}×${sized.seq}, lr ${sized.lr}, dropout ${sized.dropout} (${fmtInt(sized.charsPerSec)} chars/s here)`);
      if (sized.batches) ui.note(`batch ${sized.batch} for the GPU, of ${sized.batches.map((b) => `${b.batch}: ${fmtInt(b.charsPerSec)}`).join(', ')} chars/s`);
    }
    if (train.length < f.seq + 1) {
      const room = train.length - 1;
      throw new UserError(
        `${name}: its training part has ${train.length} characters, fewer than one window of --seq ${f.seq} + 1` +
          (room >= 1 ? `; use --seq ${room} or less, or a longer file` : '; use a longer file'),
      );
    }
    const config = given ?? validateConfig({ cell: f.model, vocab: text.vocab.size, embed: f.embed, hidden: f.hidden, layers: f.layers, mlp: f.mlp, zoneout: f.zoneout, gateNorm: f.gateNorm });
    const documents = { documents: text.starts?.length ?? 1, chars: text.chars, separator: separatorOf(text) };
    // --new-data on the same text changes nothing (a note said so): no new best is started.
    f.newData = newBest;
    return { corpus, corpusName: resolved.name ?? null, ...documents, split, out, latest, settings: f, vocab: text.vocab, train, val, engine, config, texts, notes };
  } catch (e) {
    engine.dispose();
    throw e;
  }
}

/** A catalogue split as positions of the model's symbols in the file (converted between bytes and characters). */
async function symbolRanges(file: string, s: CorpusSplit, tokenizer: TokenizerKind): Promise<{ train: [number, number]; val: [number, number] }> {
  const want = tokenizer === 'bytes' ? 'bytes' : 'chars';
  if (s.unit === want) return { train: s.train, val: s.val };
  const at = (x: number) => (want === 'chars' ? charsBeforeByte(file, x) : byteOfChar(file, x));
  return { train: [await at(s.train[0]), await at(s.train[1])], val: [await at(s.val[0]), await at(s.val[1])] };
}
