// The one description of a training run's settings. Each row is keyed by the setting's name, from
// which its flag (--min-lr) and its checkpoint record field (min_lr) follow; its kind types the
// value, so TrainSettings is derived from the table and code cannot use a setting the table lacks.
// From this table come the `train` flags and their help (src/cli/parse.ts), the record a checkpoint
// keeps (settingsRecord) and its validation on load (record.ts), and the resume rules
// (src/train/resume.ts). It lives with the model because every checkpoint carries these values
// and every command that opens one checks them.
import { BACKENDS, BACKEND_ALIASES } from '../engine/backends.js';
import { TOKENIZERS } from '../text/tokenizer.js';
import { CELLS, CONFIG_LIMITS, MAX_ZONEOUT, isMinCell, type ModelConfig } from './config.js';

export const BATCHING = ['random', 'stream'] as const;
export const DECAYS = ['linear', 'cosine'] as const;
/** adamw everywhere, or Muon on the recurrent matrices and AdamW for the rest (train/muon.ts). */
export const OPTIMIZERS = ['adamw', 'muon'] as const;
/** Which weights a run's checkpoint ends with: the best estimate's or the final ones. */
export const KEEPS = ['best', 'final'] as const;

export type SettingKind =
  | { type: 'int'; min: number; max?: number }
  | { type: 'float'; min: number; max: number; minExclusive?: boolean }
  /** `aliases`: old names still accepted, each mapped to its current value. */
  | { type: 'choice'; values: readonly string[]; aliases?: Readonly<Record<string, string>> }
  | { type: 'duration' }
  | { type: 'text' }
  | { type: 'switch' };

/**
 * - `fixed`: part of the model or of the data layout; a resumed run takes the checkpoint's value
 *   and refuses a different one.
 * - `mutable`: the checkpoint's value unless given again (budget, optimizer, cadence).
 * - `run`: belongs to this invocation only (where to write, what to print); not recorded.
 */
export type ResumeRule = 'fixed' | 'mutable' | 'run';

interface Row {
  /** Placeholder of the flag's value, e.g. `<rate>`; absent for a switch. */
  arg?: string;
  kind: SettingKind;
  default?: number | string;
  /** What a checkpoint written before this setting was recorded ran with, when that is not `default`. */
  absent?: number | string;
  help: string;
  resume: ResumeRule;
  /** Where a checkpoint keeps it when not under the record field named after it: a model-config field, or another record name. */
  config?: keyof ModelConfig;
  record?: string;
  /** Giving it means the user sizes the model; otherwise a time budget sizes it (autosize). */
  sizing?: boolean;
}

const int = (min: number, max?: number) => ({ type: 'int', min, max }) as const;
const limit = (k: keyof typeof CONFIG_LIMITS) => int(CONFIG_LIMITS[k][0], CONFIG_LIMITS[k][1]);
const rate = (max: number) => ({ type: 'float', min: 0, max }) as const;
const text = { type: 'text' } as const;
const onOff = { type: 'switch' } as const;

const ROWS = {
  model: { arg: '<cell>', kind: { type: 'choice', values: CELLS }, default: 'lstm', help: `recurrent cell: ${CELLS.join(', ')} (with no size flag and a time budget: a GRU sized to the budget)`, resume: 'fixed', config: 'cell' },
  layers: { arg: '<n>', kind: limit('layers'), default: 2, help: 'stacked recurrent layers', resume: 'fixed', config: 'layers', sizing: true },
  hidden: { arg: '<n>', kind: limit('hidden'), default: 256, help: 'hidden units per layer', resume: 'fixed', config: 'hidden', sizing: true },
  embed: { arg: '<n>', kind: limit('embed'), default: 64, help: 'character embedding width', resume: 'fixed', config: 'embed', sizing: true },
  mlp: { arg: '<n>', kind: limit('mlp'), default: 2, help: 'MLP expansion in each mingru/minlstm block (0: none)', resume: 'fixed', config: 'mlp', sizing: true },
  tokenizer: { arg: '<kind>', kind: { type: 'choice', values: TOKENIZERS }, default: 'chars', help: 'what a symbol is: chars (Unicode code points of the text) or bytes (its 256 UTF-8 byte values: any file, bits per byte)', resume: 'fixed' },
  batch: { arg: '<n>', kind: int(1, 4096), default: 32, help: 'sequences per step', resume: 'fixed', sizing: true },
  seq: { arg: '<n>', kind: int(1, 100000), default: 128, help: 'characters per sequence (backpropagation length)', resume: 'fixed', sizing: true },
  batching: { arg: '<kind>', kind: { type: 'choice', values: BATCHING }, default: 'stream', absent: 'random', help: 'random windows, or contiguous streams with the state carried (truncated BPTT)', resume: 'fixed' },
  steps: { arg: '<n>', kind: int(1), help: 'training steps in all, counting those before a resume', resume: 'mutable', record: 'planned_steps' },
  time: { arg: '<duration>', kind: { type: 'duration' }, help: 'training-time budget such as 90s or 10m, evaluations not counted (default: 10m unless --steps is given)', resume: 'mutable', record: 'planned_seconds' },
  lr: { arg: '<rate>', kind: { type: 'float', min: 0, max: 10, minExclusive: true }, default: 3e-3, help: 'peak learning rate', resume: 'mutable', sizing: true },
  minLr: { arg: '<rate>', kind: rate(10), default: 0, help: 'learning rate at the end of the decay, at most --lr', resume: 'mutable' },
  decay: { arg: '<shape>', kind: { type: 'choice', values: DECAYS }, default: 'cosine', absent: 'cosine', help: 'how the rate falls from --lr to --min-lr after the warm-up: linear or cosine', resume: 'mutable' },
  decayFrom: { arg: '<f>', kind: rate(0.95), default: 0, absent: 0, help: 'hold the rate at --lr until this fraction of the budget, then decay over the rest (0: decay from the warm-up on)', resume: 'mutable' },
  warmup: { arg: '<steps>', kind: int(0), default: 50, help: 'linear warm-up steps', resume: 'mutable' },
  clip: { arg: '<norm>', kind: rate(1e9), default: 1, help: 'clip the gradient norm to this (0: off)', resume: 'mutable' },
  weightDecay: { arg: '<w>', kind: rate(10), default: 0.1, help: 'AdamW weight decay, on matrices only', resume: 'mutable' },
  dropout: { arg: '<p>', kind: rate(0.95), default: 0, help: "dropout probability on each layer's output during training (when the budget sizes the model: chosen with it by the passes over the text)", resume: 'mutable', sizing: true },
  weightDrop: { arg: '<p>', kind: rate(0.95), default: 0, help: "DropConnect on the recurrent weights of lstm, gru and rnn layers: each step drops this fraction of W_h's entries, the same ones at every timestep (when the budget sizes the model: chosen with it)", resume: 'mutable', sizing: true },
  zoneout: { arg: '<p>', kind: rate(MAX_ZONEOUT), default: 0, help: 'zoneout on the state of gru layers: in training each unit keeps its previous value with this probability at each step; sampling and eval use the expected state (part of the model)', resume: 'fixed', config: 'zoneout', sizing: true },
  gateNorm: { kind: onOff, help: 'gru layers normalise their gate pre-activations: x·W_x and h·W_h each by its RMS over the gates, times a learned gain, before the biases (part of the model; a time budget sizes such GRUs on the cpu engine)', resume: 'fixed', config: 'gateNorm', sizing: true },
  optimizer: { arg: '<name>', kind: { type: 'choice', values: OPTIMIZERS }, default: 'adamw', absent: 'adamw', help: "adamw, or muon: the recurrent matrices W_h of lstm, gru and rnn layers take orthogonalised momentum updates (Newton-Schulz, scaled to AdamW's size, same --lr and --weight-decay), AdamW the rest", resume: 'fixed' },
  ema: { arg: '<decay>', kind: rate(0.99999), default: 0, absent: 0, help: "keep a moving average of the weights with this decay per step (e.g. 0.999; held at (1+step)/(10+step) early on): validation and the checkpoints use the average, training goes on from the optimizer's own weights (0: off)", resume: 'mutable' },
  keep: { arg: '<which>', kind: { type: 'choice', values: KEEPS }, default: 'best', absent: 'best', help: "which weights the checkpoint at --out ends with: best (the lowest validation estimate) or final (the last step's; with the decay to 0 they are the most trained)", resume: 'mutable' },
  seed: { arg: '<n>', kind: int(0, 2 ** 32 - 1), default: 1337, help: 'random seed (same seed, same backend: same model)', resume: 'fixed' },
  evalEvery: { arg: '<steps>', kind: int(1), default: 100, help: 'steps between validation estimates', resume: 'mutable' },
  evalChars: { arg: '<n>', kind: int(2), default: 32768, help: 'validation characters used by each estimate, drawn from the whole split', resume: 'mutable' },
  patience: { arg: '<n>', kind: int(0), default: 0, help: 'stop after this many estimates without improvement (0: never)', resume: 'mutable' },
  valFrac: { arg: '<f>', kind: { type: 'float', min: 0, max: 0.5, minExclusive: true }, default: 0.1, help: 'fraction of the corpus (its end) used for validation', resume: 'fixed' },
  val: { arg: '<file>', kind: text, help: 'separate validation file (then the whole corpus trains)', resume: 'fixed', record: 'val_file' },
  out: { arg: '<file>', kind: text, help: 'best checkpoint (default: checkpoints/<corpus name>.ckpt); the latest state goes beside it as <name>.latest.ckpt', resume: 'run' },
  saveEvery: { arg: '<steps>', kind: int(0), default: 500, help: 'save the latest state every this many steps (0: only at the end or when stopped)', resume: 'mutable' },
  stopAfter: { arg: '<steps>', kind: int(1), help: 'end this run after this many steps, saving the latest state to resume from', resume: 'run' },
  resume: { arg: '<checkpoint>', kind: text, help: 'continue a run exactly where a checkpoint left it', resume: 'run' },
  newData: { kind: onOff, help: "with --resume: train on a text other than the checkpoint's (edited, extended, another file with the same characters), starting a new best-so-far", resume: 'run' },
  backend: { arg: '<name>', kind: { type: 'choice', values: BACKENDS, aliases: BACKEND_ALIASES }, default: 'auto', help: 'compute backend: auto (a GPU where one trains faster, else cpu), cpu (the fast CPU engine), webgpu or headlessgl (a GPU through gpu.js), gpujs-cpu or gpujs-webasm (gpu.js\'s own CPU modes, far slower), js (the plain reference); simd and webasm are old names of cpu and gpujs-webasm', resume: 'mutable' },
  threads: { arg: '<n>', kind: int(1, 1024), help: 'worker threads for the cpu backend (default: one per core not busy at start; more than the cores here are capped)', resume: 'mutable' },
  json: { kind: onOff, help: 'one JSON object per line on stdout instead of the progress display', resume: 'run' },
  corpusDir: { arg: '<folder>', kind: text, help: 'where catalogue corpora are cached (default: $CHARNN_CORPORA, else the package\'s corpora/ folder)', resume: 'run' },
  log: { arg: '<file.jsonl>', kind: text, help: 'append one JSON line per step and per evaluation to this file', resume: 'run' },
} as const satisfies Record<string, Row>;

type Rows = typeof ROWS;
export type SettingKey = keyof Rows;
type ValueOf<K> = K extends { type: 'choice'; values: readonly (infer V)[] } ? V : K extends { type: 'text' } ? string : K extends { type: 'switch' } ? boolean : number;
type WithDefault = { [K in SettingKey]: Rows[K] extends { default: unknown } ? K : never }[SettingKey];

/** Every setting, typed by its row: those with a default always hold a value, the others may not. */
export type TrainSettings =
  & { -readonly [K in WithDefault]: ValueOf<Rows[K]['kind']> }
  & { -readonly [K in Exclude<SettingKey, WithDefault>]?: ValueOf<Rows[K]['kind']> };

export type Batching = TrainSettings['batching'];
export type Decay = TrainSettings['decay'];
export type OptimizerKind = TrainSettings['optimizer'];
export type Keep = TrainSettings['keep'];

/** A row as the flag table, the record and the resume rules read it. */
export interface Setting extends Omit<Row, 'config' | 'record'> {
  key: SettingKey;
  /** The long flag, e.g. `--min-lr`. */
  flag: string;
  /** Where a checkpoint keeps the value; absent for `run` settings. */
  stored?: { config: keyof ModelConfig } | { record: string };
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export const TRAIN_SETTINGS: readonly Setting[] = Object.entries(ROWS).map(([key, row]: [string, Row]) => {
  const { config, record, ...r } = row;
  return { ...r, key: key as SettingKey, flag: `--${kebab(key)}`, stored: r.resume === 'run' ? undefined : config ? { config } : { record: record ?? snake(key) } };
});

export function setting(key: SettingKey): Setting {
  return TRAIN_SETTINGS.find((x) => x.key === key)!;
}

/** Every setting at its default, with `given` on top: what a run that names only those would use. */
export function trainSettings(given: Partial<TrainSettings> = {}): TrainSettings {
  const s: Record<string, unknown> = {};
  for (const x of TRAIN_SETTINGS) if (x.default !== undefined) s[x.key] = x.default;
  return { ...s, ...given } as TrainSettings;
}

/** The record fields a checkpoint keeps for `s` (null for a setting without a value). */
export function settingsRecord(s: TrainSettings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const x of TRAIN_SETTINGS) if (x.stored && 'record' in x.stored) out[x.stored.record] = s[x.key] ?? null;
  return out;
}

/** What `kind` accepts, in words, for messages. */
export function describeKind(k: SettingKind): string {
  switch (k.type) {
    case 'int': return `a whole number from ${k.min}${k.max !== undefined ? ` to ${k.max}` : ' up'}`;
    case 'float': return `a number ${k.minExclusive ? 'above' : 'from'} ${k.min}${Number.isFinite(k.max) ? ` up to ${k.max}` : ''}`;
    case 'choice': return `one of: ${k.values.join(', ')}`;
    case 'duration': return 'a duration such as 90s, 10m or 1h';
    case 'text': return 'a non-empty string';
    case 'switch': return 'true or false';
  }
}

/** A value under its current name: an old name of a choice mapped to the new one. */
export function canonical(k: SettingKind, v: unknown): unknown {
  return k.type === 'choice' && typeof v === 'string' && k.aliases?.[v] !== undefined ? k.aliases[v] : v;
}

/** Whether an already-typed value (from a flag or a checkpoint) is allowed by `k`. */
export function fitsKind(k: SettingKind, v: unknown): boolean {
  switch (k.type) {
    case 'int': return Number.isSafeInteger(v) && (v as number) >= k.min && (k.max === undefined || (v as number) <= k.max);
    case 'float': return typeof v === 'number' && Number.isFinite(v) && v >= k.min && v <= k.max && !(k.minExclusive && v === k.min);
    case 'choice': return typeof v === 'string' && k.values.includes(v);
    case 'duration': return typeof v === 'number' && Number.isFinite(v) && v > 0;
    case 'text': return typeof v === 'string' && v.length > 0;
    case 'switch': return typeof v === 'boolean';
  }
}

/** Rules between settings, checked once all are known (given, defaulted or resumed). */
export function crossCheck(s: Pick<TrainSettings, 'lr' | 'minLr' | 'model' | 'weightDrop' | 'zoneout' | 'optimizer' | 'gateNorm'>): string | null {
  if (s.optimizer === 'muon' && isMinCell(s.model)) return `--optimizer muon updates the recurrent matrices of lstm, gru and rnn layers; a ${s.model} block has none, so use adamw`;
  if (s.gateNorm && s.model !== 'gru') return `--gate-norm applies to the gates of gru layers; a ${s.model} model has none of them, so leave --gate-norm out`;
  if (s.zoneout > 0 && s.model !== 'gru') return `--zoneout applies to the state of gru layers; a ${s.model} model has none, so leave --zoneout out (or use --dropout)`;
  if (s.minLr > s.lr) return `--min-lr ${s.minLr} is above --lr ${s.lr}; the rate decays from --lr down to --min-lr, so give a --min-lr of at most ${s.lr}`;
  if (s.weightDrop > 0 && isMinCell(s.model)) return `--weight-drop applies to the recurrent weights of lstm, gru and rnn layers; a ${s.model} block has none, so leave --weight-drop out (or use --dropout)`;
  return null;
}
