// The one description of a training run's settings. From this table come the `train` flags and
// their help (src/cli/flags.ts), the checkpoint's training record and its validation on load
// (src/train/record.ts), and the resume rules: what must match the checkpoint, what may change.
import { CELLS, CONFIG_LIMITS, MAX_ZONEOUT, isMinCell, type Cell, type ModelConfig } from '../model/config.js';
import { BACKENDS, BACKEND_ALIASES } from '../engine/backends.js';
import { TOKENIZERS, type TokenizerKind } from '../text/tokenizer.js';
import { BATCHING, type Batching } from './batch.js';
import { DECAYS, type Decay } from './schedule.js';

/** adamw everywhere, or Muon on the recurrent matrices and AdamW for the rest (muon.ts). */
export const OPTIMIZERS = ['adamw', 'muon'] as const;
export type OptimizerKind = (typeof OPTIMIZERS)[number];

/** Which weights a run's checkpoint ends with: the best estimate's or the final ones. */
export const KEEPS = ['best', 'final'] as const;
export type Keep = (typeof KEEPS)[number];

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
 * - `run`: belongs to this invocation only (where to write, what to print).
 */
export type ResumeRule = 'fixed' | 'mutable' | 'run';

export interface Setting {
  key: keyof TrainSettings;
  /** The long flag, e.g. `--min-lr`. */
  flag: string;
  /** Placeholder of the flag's value, e.g. `<rate>`; absent for a switch. */
  arg?: string;
  kind: SettingKind;
  default?: number | string;
  /** What a checkpoint written before this setting was recorded ran with, when that is not `default`. */
  absent?: number | string;
  help: string;
  resume: ResumeRule;
  /** Where a checkpoint keeps the value: a model-config field or a training-record field. */
  stored?: { config: keyof ModelConfig } | { record: string };
  /** Giving it means the user sizes the model; otherwise a time budget sizes it (autosize). */
  sizing?: boolean;
}

export interface TrainSettings {
  model: Cell; layers: number; hidden: number; embed: number; mlp: number;
  tokenizer: TokenizerKind; batch: number; seq: number; batching: Batching; steps?: number; time?: number;
  lr: number; minLr?: number; decay: Decay; decayFrom: number; warmup: number; clip: number; weightDecay: number; dropout: number; weightDrop: number;
  ema: number; keep: Keep; zoneout: number; optimizer: OptimizerKind;
  seed: number; evalEvery: number; evalChars: number; patience: number; valFrac: number; val?: string;
  out?: string; saveEvery: number; stopAfter?: number; resume?: string; log?: string;
  backend: string; threads?: number; json?: boolean; corpusDir?: string;
}

const int = (min: number, max?: number): SettingKind => ({ type: 'int', min, max });
const limit = (k: keyof typeof CONFIG_LIMITS) => int(CONFIG_LIMITS[k][0], CONFIG_LIMITS[k][1]);

export const TRAIN_SETTINGS: Setting[] = [
  { key: 'model', flag: '--model', arg: '<cell>', kind: { type: 'choice', values: CELLS }, default: 'lstm', help: `recurrent cell: ${CELLS.join(', ')} (with no size flag and a time budget: a GRU sized to the budget)`, resume: 'fixed', stored: { config: 'cell' } },
  { key: 'layers', flag: '--layers', arg: '<n>', kind: limit('layers'), default: 2, help: 'stacked recurrent layers', resume: 'fixed', stored: { config: 'layers' }, sizing: true },
  { key: 'hidden', flag: '--hidden', arg: '<n>', kind: limit('hidden'), default: 256, help: 'hidden units per layer', resume: 'fixed', stored: { config: 'hidden' }, sizing: true },
  { key: 'embed', flag: '--embed', arg: '<n>', kind: limit('embed'), default: 64, help: 'character embedding width', resume: 'fixed', stored: { config: 'embed' }, sizing: true },
  { key: 'mlp', flag: '--mlp', arg: '<n>', kind: limit('mlp'), default: 2, help: 'MLP expansion in each mingru/minlstm block (0: none)', resume: 'fixed', stored: { config: 'mlp' }, sizing: true },
  { key: 'tokenizer', flag: '--tokenizer', arg: '<kind>', kind: { type: 'choice', values: TOKENIZERS }, default: 'chars', help: 'what a symbol is: chars (Unicode code points of the text) or bytes (its 256 UTF-8 byte values: any file, bits per byte)', resume: 'fixed', stored: { record: 'tokenizer' } },
  { key: 'batch', flag: '--batch', arg: '<n>', kind: int(1, 4096), default: 32, help: 'sequences per step', resume: 'fixed', stored: { record: 'batch' }, sizing: true },
  { key: 'seq', flag: '--seq', arg: '<n>', kind: int(1, 100000), default: 128, help: 'characters per sequence (backpropagation length)', resume: 'fixed', stored: { record: 'seq' }, sizing: true },
  { key: 'batching', flag: '--batching', arg: '<kind>', kind: { type: 'choice', values: BATCHING }, default: 'stream', absent: 'random', help: 'random windows, or contiguous streams with the state carried (truncated BPTT)', resume: 'fixed', stored: { record: 'batching' } },
  { key: 'steps', flag: '--steps', arg: '<n>', kind: int(1), help: 'training steps in all, counting those before a resume', resume: 'mutable', stored: { record: 'planned_steps' } },
  { key: 'time', flag: '--time', arg: '<duration>', kind: { type: 'duration' }, help: 'training-time budget such as 90s or 10m, evaluations not counted (default: 10m unless --steps is given)', resume: 'mutable', stored: { record: 'planned_seconds' } },
  { key: 'lr', flag: '--lr', arg: '<rate>', kind: { type: 'float', min: 0, max: 10, minExclusive: true }, default: 3e-3, help: 'peak learning rate', resume: 'mutable', stored: { record: 'lr' }, sizing: true },
  { key: 'minLr', flag: '--min-lr', arg: '<rate>', kind: { type: 'float', min: 0, max: 10 }, help: 'learning rate at the end of the decay, at most --lr (default: 0)', resume: 'mutable', stored: { record: 'min_lr' } },
  { key: 'decay', flag: '--decay', arg: '<shape>', kind: { type: 'choice', values: DECAYS }, default: 'cosine', absent: 'cosine', help: 'how the rate falls from --lr to --min-lr after the warm-up: linear or cosine', resume: 'mutable', stored: { record: 'decay' } },
  { key: 'decayFrom', flag: '--decay-from', arg: '<f>', kind: { type: 'float', min: 0, max: 0.95 }, default: 0, absent: 0, help: 'hold the rate at --lr until this fraction of the budget, then decay over the rest (0: decay from the warm-up on)', resume: 'mutable', stored: { record: 'decay_from' } },
  { key: 'warmup', flag: '--warmup', arg: '<steps>', kind: int(0), default: 50, help: 'linear warm-up steps', resume: 'mutable', stored: { record: 'warmup' } },
  { key: 'clip', flag: '--clip', arg: '<norm>', kind: { type: 'float', min: 0, max: 1e9 }, default: 1, help: 'clip the gradient norm to this (0: off)', resume: 'mutable', stored: { record: 'clip' } },
  { key: 'weightDecay', flag: '--weight-decay', arg: '<w>', kind: { type: 'float', min: 0, max: 10 }, default: 0.1, help: 'AdamW weight decay, on matrices only', resume: 'mutable', stored: { record: 'weight_decay' } },
  { key: 'dropout', flag: '--dropout', arg: '<p>', kind: { type: 'float', min: 0, max: 0.95 }, default: 0, help: "dropout probability on each layer's output during training (when the budget sizes the model: chosen with it by the passes over the text)", resume: 'mutable', stored: { record: 'dropout' }, sizing: true },
  { key: 'weightDrop', flag: '--weight-drop', arg: '<p>', kind: { type: 'float', min: 0, max: 0.95 }, default: 0, help: "DropConnect on the recurrent weights of lstm, gru and rnn layers: each step drops this fraction of W_h's entries, the same ones at every timestep (when the budget sizes the model: chosen with it)", resume: 'mutable', stored: { record: 'weight_drop' }, sizing: true },
  { key: 'zoneout', flag: '--zoneout', arg: '<p>', kind: { type: 'float', min: 0, max: MAX_ZONEOUT }, default: 0, help: "zoneout on the state of gru layers: in training each unit keeps its previous value with this probability at each step; sampling and eval use the expected state (part of the model)", resume: 'fixed', stored: { config: 'zoneout' }, sizing: true },
  { key: 'optimizer', flag: '--optimizer', arg: '<name>', kind: { type: 'choice', values: OPTIMIZERS }, default: 'adamw', absent: 'adamw', help: 'adamw, or muon: the recurrent matrices W_h of lstm, gru and rnn layers take orthogonalised momentum updates (Newton-Schulz, scaled to AdamW\'s size, same --lr and --weight-decay), AdamW the rest', resume: 'fixed', stored: { record: 'optimizer' } },
  { key: 'ema', flag: '--ema', arg: '<decay>', kind: { type: 'float', min: 0, max: 0.99999 }, default: 0, absent: 0, help: 'keep a moving average of the weights with this decay per step (e.g. 0.999; held at (1+step)/(10+step) early on): validation and the checkpoints use the average, training goes on from the optimizer\'s own weights (0: off)', resume: 'mutable', stored: { record: 'ema' } },
  { key: 'keep', flag: '--keep', arg: '<which>', kind: { type: 'choice', values: KEEPS }, default: 'best', absent: 'best', help: 'which weights the checkpoint at --out ends with: best (the lowest validation estimate) or final (the last step\'s; with the decay to 0 they are the most trained)', resume: 'mutable', stored: { record: 'keep' } },
  { key: 'seed', flag: '--seed', arg: '<n>', kind: int(0, 2 ** 32 - 1), default: 1337, help: 'random seed (same seed, same backend: same model)', resume: 'fixed', stored: { record: 'seed' } },
  { key: 'evalEvery', flag: '--eval-every', arg: '<steps>', kind: int(1), default: 100, help: 'steps between validation estimates', resume: 'mutable', stored: { record: 'eval_every' } },
  { key: 'evalChars', flag: '--eval-chars', arg: '<n>', kind: int(2), default: 32768, help: 'validation characters used by each estimate, drawn from the whole split', resume: 'mutable', stored: { record: 'eval_chars' } },
  { key: 'patience', flag: '--patience', arg: '<n>', kind: int(0), default: 0, help: 'stop after this many estimates without improvement (0: never)', resume: 'mutable', stored: { record: 'patience' } },
  { key: 'valFrac', flag: '--val-frac', arg: '<f>', kind: { type: 'float', min: 0, max: 0.5, minExclusive: true }, default: 0.1, help: 'fraction of the corpus (its end) used for validation', resume: 'fixed', stored: { record: 'val_frac' } },
  { key: 'val', flag: '--val', arg: '<file>', kind: { type: 'text' }, help: 'separate validation file (then the whole corpus trains)', resume: 'fixed', stored: { record: 'val_file' } },
  { key: 'out', flag: '--out', arg: '<file>', kind: { type: 'text' }, help: 'best checkpoint (default: checkpoints/<corpus name>.ckpt); the latest state goes beside it as <name>.latest.ckpt', resume: 'run' },
  { key: 'saveEvery', flag: '--save-every', arg: '<steps>', kind: int(0), default: 500, help: 'save the latest state every this many steps (0: only at the end or when stopped)', resume: 'mutable', stored: { record: 'save_every' } },
  { key: 'stopAfter', flag: '--stop-after', arg: '<steps>', kind: int(1), help: 'end this run after this many steps, saving the latest state to resume from', resume: 'run' },
  { key: 'resume', flag: '--resume', arg: '<checkpoint>', kind: { type: 'text' }, help: 'continue a run exactly where a checkpoint left it', resume: 'run' },
  { key: 'backend', flag: '--backend', arg: '<name>', kind: { type: 'choice', values: BACKENDS, aliases: BACKEND_ALIASES }, default: 'auto', help: `compute backend: auto (a GPU where one trains faster, else cpu), cpu (the fast CPU engine), webgpu or headlessgl (a GPU through gpu.js), gpujs-cpu or gpujs-webasm (gpu.js's own CPU modes, far slower), js (the plain reference); simd and webasm are old names of cpu and gpujs-webasm`, resume: 'mutable', stored: { record: 'backend' } },
  { key: 'threads', flag: '--threads', arg: '<n>', kind: int(1, 1024), help: 'worker threads for the cpu backend (default: one per core not busy at start; more than the cores here are capped)', resume: 'mutable', stored: { record: 'threads' } },
  { key: 'json', flag: '--json', kind: { type: 'switch' }, help: 'one JSON object per line on stdout instead of the progress display', resume: 'run' },
  { key: 'corpusDir', flag: '--corpus-dir', arg: '<folder>', kind: { type: 'text' }, help: 'where catalogue corpora are cached (default: $CHARNN_CORPORA, else the package\'s corpora/ folder)', resume: 'run' },
  { key: 'log', flag: '--log', arg: '<file.jsonl>', kind: { type: 'text' }, help: 'append one JSON line per step and per evaluation to this file', resume: 'run' },
];

export function setting(key: keyof TrainSettings): Setting {
  const s = TRAIN_SETTINGS.find((x) => x.key === key);
  if (!s) throw new Error(`no setting ${key}`);
  return s;
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
export function crossCheck(s: Pick<TrainSettings, 'lr' | 'minLr' | 'model' | 'weightDrop' | 'zoneout' | 'optimizer'>): string | null {
  if (s.minLr !== undefined && s.minLr > s.lr) return `--min-lr ${s.minLr} is above --lr ${s.lr}; the rate decays from --lr down to --min-lr, so give a --min-lr of at most ${s.lr}`;
  if (s.weightDrop > 0 && isMinCell(s.model)) return `--weight-drop applies to the recurrent weights of lstm, gru and rnn layers; a ${s.model} block has none, so leave --weight-drop out (or use --dropout)`;
  if (s.optimizer === 'muon' && isMinCell(s.model)) return `--optimizer muon updates the recurrent matrices of lstm, gru and rnn layers; a ${s.model} block has none, so use adamw`;
  if (s.zoneout > 0 && s.model !== 'gru') return `--zoneout applies to the state of gru layers; a ${s.model} model has none, so leave --zoneout out (or use --dropout)`;
  return null;
}
