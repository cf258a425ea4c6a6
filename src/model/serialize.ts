// Model ⇄ checkpoint: the weights as one named tensor per parameter view (readable by any
// safetensors reader), Adam moments as two flat tensors, and config, vocabulary and training
// state as JSON strings in the metadata.
import { UserError } from '../errors.js';
import { Vocab } from '../text/vocab.js';
import { BYTE_VOCAB, TOKENIZERS, type TokenizerKind } from '../text/tokenizer.js';
import { validateConfig, type ModelConfig } from './config.js';
import { paramLayout } from './params.js';

export interface TrainingState {
  step: number;
  best_val_loss: number | null;
  /** Full validation-split loss of these weights (nats/char), when measured. */
  val_loss: number | null;
  train_loss: number | null;
  chars_seen: number;
  seconds: number;
  backend: string;
  /** The simd engine's kernel build (relaxed or plain), when it trained. */
  kernels?: string;
  corpus: string;
  rng: string;
  /** The run's settings under their record names (settings.ts), and more state. */
  [key: string]: unknown;
}

export interface ModelFile {
  config: ModelConfig;
  vocab: Vocab;
  /** What a symbol is; absent (older checkpoints) means chars. Bytes use BYTE_VOCAB. */
  tokenizer?: TokenizerKind;
  params: Float32Array;
  m?: Float32Array;
  v?: Float32Array;
  training: TrainingState;
  /** Other training state as tensors (the carried hidden state of streamed batches), by name. */
  extra?: Map<string, Float32Array>;
}

export interface CheckpointData {
  metadata: Record<string, string>;
  tensors: { name: string; shape: number[]; data: Float32Array }[];
}

export function toCheckpoint(f: ModelFile): CheckpointData {
  const layout = paramLayout(f.config);
  const tensors = layout.views.map((v) => ({ name: v.name, shape: v.shape, data: f.params.subarray(v.off, v.off + v.size) }));
  if (f.m && f.v) {
    tensors.push({ name: 'optim.m', shape: [layout.total], data: f.m }, { name: 'optim.v', shape: [layout.total], data: f.v });
  }
  for (const [name, data] of f.extra ?? []) tensors.push({ name: `train.${name}`, shape: [data.length], data });
  return {
    metadata: {
      config: JSON.stringify(f.config),
      vocab: JSON.stringify(f.vocab.toJSON()),
      tokenizer: f.tokenizer ?? 'chars',
      // Keys in name order: the record's bytes do not depend on the order code happened to build it in.
      training: JSON.stringify(Object.fromEntries(Object.entries(f.training).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))),
    },
    tensors,
  };
}

export interface ModelHeader {
  config: ModelConfig;
  vocab: Vocab;
  tokenizer: TokenizerKind;
  /** The raw training record (src/model/record.ts checks its fields). */
  training: TrainingState;
  /** Whether the optimizer moments are stored, so training can resume. */
  resumable: boolean;
}

/**
 * What a checkpoint's metadata says about its model, checked without the tensor data: config,
 * vocabulary, tokenizer, and every tensor the model needs present with the right shape.
 */
export function readModelHeader(path: string, metadata: Record<string, string>, shapes: Map<string, number[]>): ModelHeader {
  const bad = unusable(path);
  const json = (key: string): unknown => {
    if (metadata[key] === undefined) throw bad(`metadata "${key}" is missing`);
    try {
      return JSON.parse(metadata[key]);
    } catch {
      throw bad(`metadata "${key}" is not valid JSON`);
    }
  };
  const raw = json('config') as Partial<ModelConfig>;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('metadata "config" is not an object');
  const config = validateConfig({
    cell: raw.cell!, vocab: Number(raw.vocab), embed: Number(raw.embed), hidden: Number(raw.hidden), layers: Number(raw.layers),
    mlp: raw.mlp === undefined ? undefined : Number(raw.mlp),
    zoneout: raw.zoneout === undefined ? undefined : Number(raw.zoneout),
    gateNorm: raw.gateNorm,
  }, { checkpoint: path });
  const vocab = Vocab.fromJSON(json('vocab'), path);
  if (vocab.size !== config.vocab) throw bad(`vocabulary has ${vocab.size} characters, config says ${config.vocab}`);
  const tokenizer = readTokenizer(metadata.tokenizer, vocab, bad);
  const layout = paramLayout(config);
  for (const v of layout.views) {
    const shape = shapes.get(v.name);
    if (!shape) throw bad(`tensor ${v.name} is missing`);
    if (shape.join('x') !== v.shape.join('x')) throw bad(`tensor ${v.name} has shape [${shape}], expected [${v.shape}]`);
  }
  const size = (name: string) => shapes.get(name)?.reduce((a, b) => a * b, 1);
  const m = size('optim.m'), v = size('optim.v');
  if ((m !== undefined && m !== layout.total) || (v !== undefined && v !== layout.total)) throw bad('optimizer moments do not match the model');
  // A latest state's best weights (src/train/loop.ts) are a copy of the parameters.
  const best = size('train.best.params');
  if (best !== undefined && best !== layout.total) throw bad('tensor train.best.params does not match the model');
  // The record's fields are checked by src/model/record.ts, which knows the run settings.
  const training = json('training') as TrainingState;
  if (!training || typeof training !== 'object' || Array.isArray(training)) throw bad('metadata "training" is not an object');
  return { config, vocab, tokenizer, training, resumable: m !== undefined && v !== undefined };
}

/**
 * The check loading makes of tensor values, for one tensor or a piece of one: weights and
 * carried state finite, optimizer moments finite and second moments not negative.
 */
export function checkTensorValues(path: string, config: ModelConfig): (name: string, values: Float32Array) => void {
  const bad = unusable(path);
  const params = new Set(paramLayout(config).views.map((v) => v.name));
  return (name, values) => {
    if (name === 'optim.m' || name === 'optim.v') {
      if (!allFinite(values) || (name === 'optim.v' && !values.every((x) => x >= 0))) throw bad('optimizer moments hold NaN, infinite or negative values');
    } else if ((params.has(name) || name.startsWith('train.')) && !allFinite(values)) {
      throw bad(`tensor ${name} holds NaN or infinite values`);
    }
  };
}

export function fromCheckpoint(path: string, metadata: Record<string, string>, tensors: Map<string, { shape: number[]; data: Float32Array }>): ModelFile {
  const h = readModelHeader(path, metadata, new Map([...tensors].map(([name, t]) => [name, t.shape])));
  const check = checkTensorValues(path, h.config);
  for (const [name, t] of tensors) check(name, t.data);
  const layout = paramLayout(h.config);
  const params = new Float32Array(layout.total);
  for (const v of layout.views) params.set(tensors.get(v.name)!.data, v.off);
  const extra = new Map<string, Float32Array>();
  for (const [name, t] of tensors) if (name.startsWith('train.')) extra.set(name.slice(6), t.data);
  return {
    config: h.config, vocab: h.vocab, tokenizer: h.tokenizer, params, m: tensors.get('optim.m')?.data, v: tensors.get('optim.v')?.data,
    training: h.training, extra,
  };
}

const unusable = (path: string) => (why: string) => new UserError(`${path} is not a usable charnn model (${why})`);

function readTokenizer(value: string | undefined, vocab: Vocab, bad: (why: string) => Error): TokenizerKind {
  if (value === undefined) return 'chars';
  if (!TOKENIZERS.includes(value as TokenizerKind)) throw bad(`unknown tokenizer ${JSON.stringify(value)}`);
  if (value === 'bytes' && JSON.stringify(vocab.toJSON()) !== JSON.stringify(BYTE_VOCAB.toJSON())) throw bad('a byte model needs the 256-symbol byte vocabulary');
  return value as TokenizerKind;
}

function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}
