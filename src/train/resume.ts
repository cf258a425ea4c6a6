// The resume rules, read off the settings table: `fixed` settings are the checkpoint's and may not
// be contradicted, `mutable` ones are the checkpoint's unless given again, `run` ones are this
// invocation's alone.
import { UserError } from '../errors.js';
import type { ModelFile } from '../model/serialize.js';
import { TRAIN_SETTINGS, canonical, fitsKind, type TrainSettings } from './settings.js';

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
        throw new UserError(`${s.flag} ${String(mine)} contradicts ${ckpt}, which was trained with ${value ?? 'none'}; leave the flag out to resume`);
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
