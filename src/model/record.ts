// The training record a checkpoint carries (its `training` metadata), read back field by field:
// every value is checked for type and range, and a bad one is refused naming the checkpoint, so a
// damaged or hand-edited file never turns into a stack trace or a run "resumed at step -5".
import { UserError } from '../errors.js';
import type { TrainingState } from './serialize.js';
import { Rng } from '../rng.js';
import { isFingerprint } from '../text/fingerprint.js';
import { TRAIN_SETTINGS, describeKind, fitsKind, type SettingKind } from './settings.js';

type Field = { kind: SettingKind | 'loss' | 'rng' | 'seconds' | 'fingerprint'; nullable?: boolean; optional?: boolean };

const count: SettingKind = { type: 'int', min: 0 };
const text: SettingKind = { type: 'text' };

/** The run's state beyond its settings. */
const STATE_FIELDS: Record<string, Field> = {
  step: { kind: count },
  best_val_loss: { kind: 'loss', nullable: true },
  best_step: { kind: count, nullable: true, optional: true },
  val_loss: { kind: 'loss', nullable: true },
  train_loss: { kind: 'loss', nullable: true },
  chars_seen: { kind: count },
  seconds: { kind: 'seconds' },
  corpus: { kind: text },
  corpus_name: { kind: text, nullable: true, optional: true },
  kernels: { kind: text, optional: true },
  split: { kind: text, optional: true },
  /** The text's documents (files of a folder), their characters, and the code point read between two (null for one). */
  documents: { kind: count, optional: true },
  corpus_chars: { kind: count, optional: true },
  doc_separator: { kind: count, optional: true, nullable: true },
  rng: { kind: 'rng' },
  dropout_rng: { kind: 'rng', optional: true },
  cursor: { kind: count, optional: true },
  evals_since_best: { kind: count, optional: true },
  // Where a latest state's best weights (tensor train.best.params) were reached, in training seconds.
  best_seconds: { kind: 'seconds', optional: true },
  // The texts it trained and validated on; absent in checkpoints written before they were recorded.
  train_text: { kind: 'fingerprint', optional: true },
  val_text: { kind: 'fingerprint', optional: true },
  // The step at which --new-data started a new best-so-far on another text.
  new_data_step: { kind: count, nullable: true, optional: true },
};

/** Settings are recorded under their `stored.record` names; older checkpoints may lack some. */
function settingFields(): Record<string, Field> {
  const out: Record<string, Field> = {};
  for (const s of TRAIN_SETTINGS) {
    if (s.stored && 'record' in s.stored) {
      // A setting without a value (no budget, no thread count, no validation file) is recorded as null.
      out[s.stored.record] = { kind: s.kind, optional: s.key !== 'seed', nullable: s.default === undefined || s.key === 'minLr' };
    }
  }
  // The backend is recorded by the engine's own name (gpu.js modes included), which any string is.
  out.backend = { kind: text };
  return out;
}

const FIELDS: Record<string, Field> = { ...settingFields(), ...STATE_FIELDS };

function fits(f: Field, v: unknown): boolean {
  if (f.kind === 'loss') return typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (f.kind === 'seconds') return typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (f.kind === 'rng') return typeof v === 'string' && Rng.isState(v);
  if (f.kind === 'fingerprint') return isFingerprint(v);
  return fitsKind(f.kind, v);
}

function expected(f: Field): string {
  if (f.kind === 'loss') return 'a finite loss of at least 0';
  if (f.kind === 'seconds') return 'a number of seconds of at least 0';
  if (f.kind === 'rng') return 'four 32-bit words, not all zero';
  if (f.kind === 'fingerprint') return 'a symbol count and a SHA-256 in hex';
  return describeKind(f.kind);
}

/** Checks every known field of a raw training record; unknown fields are kept as they are. */
export function parseTrainingRecord(raw: unknown, ckpt: string): TrainingState {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UserError(`${ckpt} has a damaged training record (not a JSON object)`);
  }
  const rec = raw as Record<string, unknown>;
  for (const [name, f] of Object.entries(FIELDS)) {
    const v = rec[name];
    if (v === undefined && f.optional) continue;
    if (v === null && f.nullable) continue;
    if (!fits(f, v)) {
      throw new UserError(`${ckpt} has a damaged training record: "${name}" is ${JSON.stringify(v) ?? 'missing'} (expected ${expected(f)})`);
    }
  }
  if (typeof rec.min_lr === 'number' && typeof rec.lr === 'number' && rec.min_lr > rec.lr) {
    throw new UserError(`${ckpt} has a damaged training record: "min_lr" ${rec.min_lr} is above "lr" ${rec.lr}`);
  }
  return rec as TrainingState;
}
