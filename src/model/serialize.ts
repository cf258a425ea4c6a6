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
  seed: number;
  rng: string;
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
      training: JSON.stringify(f.training),
    },
    tensors,
  };
}

export function fromCheckpoint(path: string, metadata: Record<string, string>, tensors: Map<string, { shape: number[]; data: Float32Array }>): ModelFile {
  const bad = (why: string) => new UserError(`${path} is not a usable charnn model (${why})`);
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
  }, { checkpoint: path });
  const vocab = Vocab.fromJSON(json('vocab'), path);
  if (vocab.size !== config.vocab) throw bad(`vocabulary has ${vocab.size} characters, config says ${config.vocab}`);
  const tokenizer = readTokenizer(metadata.tokenizer, vocab, bad);
  const layout = paramLayout(config);
  const params = new Float32Array(layout.total);
  for (const v of layout.views) {
    const t = tensors.get(v.name);
    if (!t) throw bad(`tensor ${v.name} is missing`);
    if (t.shape.join('x') !== v.shape.join('x')) throw bad(`tensor ${v.name} has shape [${t.shape}], expected [${v.shape}]`);
    if (!allFinite(t.data)) throw bad(`tensor ${v.name} holds NaN or infinite values`);
    params.set(t.data, v.off);
  }
  const m = tensors.get('optim.m')?.data, v = tensors.get('optim.v')?.data;
  if ((m && m.length !== layout.total) || (v && v.length !== layout.total)) throw bad('optimizer moments do not match the model');
  if ((m && !allFinite(m)) || (v && !(allFinite(v) && v.every((x) => x >= 0)))) throw bad('optimizer moments hold NaN, infinite or negative values');
  // The record's fields are checked by src/train/record.ts, which knows the run settings.
  const training = json('training') as TrainingState;
  if (!training || typeof training !== 'object' || Array.isArray(training)) throw bad('metadata "training" is not an object');
  const extra = new Map<string, Float32Array>();
  for (const [name, t] of tensors) {
    if (!name.startsWith('train.')) continue;
    if (!allFinite(t.data)) throw bad(`tensor ${name} holds NaN or infinite values`);
    extra.set(name.slice(6), t.data);
  }
  return { config, vocab, tokenizer, params, m, v, training, extra };
}

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
