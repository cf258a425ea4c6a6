// The resume rules, read off the settings table: `fixed` settings are the checkpoint's and may not
// be contradicted, `mutable` ones are the checkpoint's unless given again, `run` ones are this
// invocation's alone.
import { UserError } from '../errors.js';
import type { ModelFile } from '../model/serialize.js';
import { isFingerprint, sameText, type TextFingerprint } from '../text/fingerprint.js';
import { TRAIN_SETTINGS, canonical, fitsKind, type TrainSettings } from '../model/settings.js';

export interface Resumed {
  settings: TrainSettings;
  /** The mutable settings given with other values than the checkpoint's, in words. */
  changes: string[];
}

/** The value a checkpoint holds for a setting, or undefined when it does not record one. */
function recorded(file: ModelFile, stored: NonNullable<(typeof TRAIN_SETTINGS)[number]['stored']>): unknown {
  const v = 'config' in stored ? file.config[stored.config] : file.training[stored.record];
  return v === null ? undefined : v;
}

export function resumeSettings(given: TrainSettings, isGiven: (key: keyof TrainSettings) => boolean, file: ModelFile, ckpt: string): Resumed {
  if (!file.m || !file.v) throw new UserError(`${ckpt} holds no optimizer state, so it cannot be resumed; train a new model instead`);
  const merged = { ...given } as Record<string, unknown>;
  const changes: string[] = [];
  for (const s of TRAIN_SETTINGS) {
    if (!s.stored || s.resume === 'run') continue;
    let value = canonical(s.kind, recorded(file, s.stored));
    // Checkpoints written before a setting was recorded used what was then the default.
    if (value === undefined && (s.resume === 'fixed' || s.absent !== undefined)) value = s.absent ?? s.default;
    const mine = given[s.key];
    if (s.resume === 'fixed') {
      if (isGiven(s.key) && mine !== value) {
        // A switch is only ever given on, so the checkpoint was trained without it.
        const what = s.kind.type === 'switch' ? [s.flag, 'without it'] : [`${s.flag} ${String(mine)}`, `with ${value ?? 'none'}`];
        throw new UserError(`${what[0]} contradicts ${ckpt}, which was trained ${what[1]}; leave the flag out to resume`);
      }
      merged[s.key] = value;
    } else if (!isGiven(s.key)) {
      // A backend recorded by an engine name no flag accepts (gpu.js's own `gpu` mode) is not reused.
      if (value !== undefined && fitsKind(s.kind, value)) merged[s.key] = value;
    } else if (mine !== value) {
      changes.push(`${s.flag} ${String(mine)} (was ${value ?? 'unset'})`);
    }
  }
  // A budget given now replaces the planned one entirely.
  if (isGiven('steps') && !isGiven('time')) merged.time = undefined;
  if (isGiven('time') && !isGiven('steps')) merged.steps = undefined;
  merged.out = given.out ?? (ckpt.endsWith('.latest.ckpt') ? ckpt.slice(0, -'.latest.ckpt'.length) + '.ckpt' : ckpt);
  return { settings: merged as unknown as TrainSettings, changes };
}

/** The best weights a resumed run starts from, as the checkpoint holds them. */
export interface ResumedBest {
  loss: number;
  step: number;
  params: Float32Array;
  /** Training seconds when they were reached. */
  seconds: number;
  /** The checkpoint itself when it is the best one (its step is the best step): optimizer state and all. */
  file: ModelFile | null;
}

/**
 * The recorded best's weights: those of a best checkpoint resumed from (its step is the best
 * step), or the copy a latest state keeps beside its own weights (train.best.params). Null when
 * no best is recorded, or when the checkpoint does not hold its weights (a latest state written
 * before that copy was kept): the run then starts a best-so-far of its own.
 */
export function resumedBest(file: ModelFile): ResumedBest | null {
  const t = file.training;
  if (t.best_val_loss === null || typeof t.best_step !== 'number') return null;
  if (t.best_step === t.step) return { loss: t.best_val_loss, step: t.step, params: file.params, seconds: t.seconds, file };
  const params = file.extra?.get('best.params');
  if (!params) return null;
  return { loss: t.best_val_loss, step: t.best_step, params, seconds: typeof t.best_seconds === 'number' ? t.best_seconds : t.seconds, file: null };
}

export interface RunTexts {
  train: TextFingerprint;
  val: TextFingerprint;
}

export interface TextCheck {
  /** The recorded best was measured on other validation text: start a new one. */
  newBest: boolean;
  /** A line for the user, when there is something to say. */
  note: string | null;
}

/**
 * A resume continues on the text its checkpoint trained and validated on. Another text with the
 * same characters is refused (its best-so-far would mix two validation splits) unless `newData`,
 * which starts a new best-so-far on it. `names` says where the texts came from, for messages.
 */
export function checkResumeText(file: ModelFile, texts: RunTexts, o: { ckpt: string; names: string; newData: boolean }): TextCheck {
  const { train_text: train, val_text: val } = file.training;
  if (!isFingerprint(train) || !isFingerprint(val)) {
    return {
      newBest: o.newData,
      note: `${o.ckpt} records no fingerprint of its text (written before charnn kept one), so ${o.names} cannot be checked against it; this run records this text's` +
        (o.newData ? ', and --new-data starts a new best-so-far' : ''),
    };
  }
  const rec = { train, val };
  const parts = (['train', 'val'] as const).filter((k) => !sameText(rec[k], texts[k]));
  if (parts.length === 0) {
    return { newBest: false, note: o.newData ? `--new-data: ${o.names} is the text ${o.ckpt} was trained on, so its best so far is kept` : null };
  }
  const said = parts.map((k) => `${k === 'train' ? 'training' : 'validation'} text: ${differs(texts[k], rec[k])}`).join('; ');
  if (o.newData) return { newBest: true, note: `--new-data: ${o.names} is not the text ${o.ckpt} was trained on (${said}); a new best-so-far starts at step ${file.training.step}` };
  throw new UserError(`${o.names} is not the text ${o.ckpt} was trained on (${said}); pass the original text, or add --new-data to train on this one with a new best-so-far`);
}

function differs(here: TextFingerprint, recorded: TextFingerprint): string {
  const n = (f: TextFingerprint) => f.symbols.toLocaleString('en-US');
  const sizes = here.symbols === recorded.symbols ? `${n(here)} symbols both` : `${n(here)} symbols here, ${n(recorded)} recorded`;
  return `${sizes}, sha256 ${here.sha256.slice(0, 12)} here, ${recorded.sha256.slice(0, 12)} recorded`;
}

/** Why a resumed run has nothing left to train (its step or time budget is spent), or null. */
export function budgetSpent(s: Pick<TrainSettings, 'steps' | 'time'>, file: ModelFile, ckpt: string): string | null {
  const t = file.training;
  const fix = 'give a larger budget to train further';
  if (s.steps !== undefined && s.steps <= t.step) {
    return `${ckpt} is at step ${t.step}, and --steps ${s.steps} counts all steps, those before the resume included: nothing is left to train; ${fix}`;
  }
  if (s.time !== undefined && s.time <= t.seconds) {
    return `${ckpt} has trained ${t.seconds.toFixed(1)} s, and --time ${s.time}s counts all training time, before the resume included: nothing is left to train; ${fix}`;
  }
  return null;
}
