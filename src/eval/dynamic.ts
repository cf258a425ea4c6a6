// Dynamic evaluation (Krause et al., 2018): the text is read as one stream in segments; each
// segment is scored, then the weights take a gradient step on it (dynamic-update.ts), so the model
// adapts to the text as it reads it. The static figure of the same stream is computed beside it
// with the trained weights, so the two columns score exactly the same characters.
//
// INVARIANT (causality): the score of every character is computed before any update that has seen
// it. Segment i is scored with weights updated on segments 0..i-1 only; its own update comes after
// its losses are read, and the state it hands to segment i+1 was computed before that update. So
// the first segment scores exactly as static evaluation does, and with a learning rate of 0 the
// whole text does, bit for bit. test/dynamic.test.ts checks all three.
import { UserError } from '../errors.js';
import { Weights, Workspace } from '../model/model.js';
import type { ModelFile } from '../model/serialize.js';
import type { EncodeStats } from '../text/corpus.js';
import { totalBytes, type Document } from '../text/documents.js';
import type { Tokenizer } from '../text/tokenizer.js';
import { scanUnits, type ScanChunk, type UnitKind } from '../text/units.js';
import { DynamicUpdate, type DynamicRule } from './dynamic-update.js';
import type { EvalProgress } from './streams.js';
import { UnitLedger, type UnitRecord } from './unit-ledger.js';

export { DYNAMIC_RULES, type DynamicRule } from './dynamic-update.js';

/**
 * Defaults by measurement: see docs/perplexity.md ("Choosing the defaults"). A GRU 2×128 trained
 * four minutes on tinyshakespeare, scored on its validation split.
 */
export const DYNAMIC_DEFAULTS = { segment: 50, lr: 3e-5, decay: 1e-3, rule: 'rms' as DynamicRule };

export interface DynamicOptions {
  /** Symbols per segment: scored together, then one update. */
  segment?: number;
  lr?: number;
  decay?: number;
  rule?: DynamicRule;
  /** The rms rule's mean squared training gradient per parameter (see trainingMeanSquares). */
  meanSquares?: Float32Array;
  /** The id fed between documents, or null. */
  separator: number | null;
  /** With onRecord: a record per line or document, with both figures. */
  unit?: UnitKind;
  previewChars?: number;
  onRecord?: (r: UnitRecord) => void;
  /** After each segment: its index, and the static and dynamic nats of its scored symbols. */
  onSegment?: (i: number, chars: number, staticNats: number, dynamicNats: number) => void;
  onProgress?: (p: EvalProgress) => void;
  signal?: AbortSignal;
}

export interface DynamicResult {
  chars: number;
  /** Nats with the trained weights (one exact stream). */
  staticNats: number;
  /** Nats with the weights adapted as the text was read. */
  dynamicNats: number;
  seconds: number;
  segments: number;
  total: number;
  unknown: number;
  unknownChars: Map<number, number>;
  partial: boolean;
  units: number;
  settings: { segment: number; lr: number; decay: number; rule: DynamicRule };
}

/** Adam's second moment as training left it, bias-corrected: the rms rule's mean squared gradient; null if the checkpoint has none. */
export function trainingMeanSquares(file: ModelFile, beta2 = 0.99): Float32Array | null {
  if (!file.v) return null;
  const step = Math.max(1, Number(file.training.step) || 1);
  const k = 1 / (1 - Math.pow(beta2, step));
  return file.v.map((x) => x * k);
}

export async function evaluateDynamic(w: Weights, docs: Document[], tok: Tokenizer, o: DynamicOptions): Promise<DynamicResult> {
  const settings = {
    segment: o.segment ?? DYNAMIC_DEFAULTS.segment, lr: o.lr ?? DYNAMIC_DEFAULTS.lr,
    decay: o.decay ?? DYNAMIC_DEFAULTS.decay, rule: o.rule ?? DYNAMIC_DEFAULTS.rule,
  };
  const T = settings.segment;
  if (!(Number.isInteger(T) && T >= 1)) throw new UserError(`--dynamic-seq must be a whole number ≥ 1 (got ${T})`);
  if (!(settings.lr >= 0 && Number.isFinite(settings.lr))) throw new UserError(`--dynamic-lr must be a number ≥ 0 (got ${settings.lr})`);
  if (!(settings.decay >= 0 && settings.decay <= 1)) throw new UserError(`--dynamic-decay must be a number from 0 to 1 (got ${settings.decay})`);
  if (settings.rule === 'rms' && !o.meanSquares) {
    throw new UserError('--dynamic-rule rms needs the gradient statistics of training, which this checkpoint does not hold; use --dynamic-rule sgd');
  }
  const e = w.e, start = performance.now(), size = totalBytes(docs);
  const stats: EncodeStats = { chars: 0, unknown: 0, unknownChars: new Map() };
  const ledger = o.onRecord ? new UnitLedger(o.onRecord, true) : undefined;
  const scan = scanUnits(docs, tok, { unit: o.unit ?? 'doc', separator: o.separator, stats, previewChars: o.previewChars });
  // The adapted copy; `w` keeps θ₀ for the static column.
  const wd = new Weights(e, w.config, await e.read(w.params));
  wd.grads = e.tensor(w.layout.total);
  let chunk: ScanChunk | null = null, at = 0;
  /** Source bytes read so far, the current chunk's in proportion. */
  const bytes = () => before + (chunk && chunk.ids.length ? (chunk.bytes * at) / chunk.ids.length : 0);
  let fixed: Workspace | null = null, adapted: Workspace | null = null, update: DynamicUpdate | null = null;
  let chars = 0, staticNats = 0, dynamicNats = 0, segments = 0, partial = false, before = 0, lastReport = 0;
  try {
    fixed = new Workspace(w, 1, T, false);
    adapted = new Workspace(wd, 1, T, true);
    update = new DynamicUpdate(wd, { ...settings, meanSquares: o.meanSquares });
    const inputs = new Float32Array(T), targets = new Float32Array(T), labels = new Int32Array(T);
    // The stream, one symbol at a time: the first is only an input.
    let last = -1, ended = false;
    const nextSymbol = async (): Promise<boolean> => {
      while (!chunk || at >= chunk.ids.length) {
        const r = await scan.next();
        if (r.done) return false;
        before += chunk?.bytes ?? 0;
        chunk = r.value;
        at = 0;
        for (const u of chunk.ends) ledger?.unitEnded(u, Math.max(-1, Math.floor((u.pos - 2) / T)));
      }
      return true;
    };
    if (await nextSymbol()) last = chunk!.ids[at++];
    else ended = true;
    o.onProgress?.({ done: 0, total: size, chars: 0 });
    while (!ended) {
      if (o.signal?.aborted) {
        partial = true;
        break;
      }
      let n = 0;
      while (n < T && (await nextSymbol())) {
        inputs[n] = last;
        last = chunk!.ids[at];
        targets[n] = last;
        labels[n++] = chunk!.labels[at++];
      }
      if (n < T) ended = true;
      if (n === 0) break;
      for (let t = n; t < T; t++) {
        inputs[t] = last;
        targets[t] = last;
        labels[t] = -2;
      }
      // Scored first, with the weights as they are (updated on earlier segments only) ...
      fixed.setInputs(inputs, targets);
      fixed.forward();
      fixed.loss();
      adapted.setInputs(inputs, targets);
      adapted.forward();
      adapted.loss();
      const ls = await e.read(fixed.losses, 0, n), ld = await e.read(adapted.losses, 0, n);
      let segChars = 0, segStatic = 0, segDynamic = 0;
      for (let t = 0; t < n; t++) {
        if (labels[t] < 0) continue;
        segChars++;
        segStatic += ls[t];
        segDynamic += ld[t];
        ledger?.score(labels[t], 1, ls[t], ld[t]);
      }
      chars += segChars;
      staticNats += segStatic;
      dynamicNats += segDynamic;
      o.onSegment?.(segments, segChars, segStatic, segDynamic);
      ledger?.pieceDone(segments);
      segments++;
      // ... then adapted on what was just scored. A short last segment is the end: no update.
      if (n === T) {
        adapted.backward();
        update.apply();
      }
      fixed.carryState();
      adapted.carryState();
      const now = performance.now();
      if (o.onProgress && now - lastReport > 200) {
        lastReport = now;
        o.onProgress({ done: Math.min(size, Math.round(bytes())), total: size, chars });
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (!partial) ledger?.pieceDone(segments);
  } finally {
    update?.dispose();
    fixed?.dispose();
    adapted?.dispose();
    wd.dispose();
    await scan.return(undefined);
  }
  o.onProgress?.({ done: partial ? Math.min(size, Math.round(bytes())) : size, total: size, chars });
  if (!partial && stats.chars === 0) throw new UserError(`${docs.length === 1 ? docs[0].path : 'the text'}: nothing to score (empty)`);
  return {
    chars, staticNats, dynamicNats, seconds: (performance.now() - start) / 1000, segments, total: stats.chars,
    unknown: stats.unknown, unknownChars: stats.unknownChars, partial, units: ledger?.emitted ?? 0, settings,
  };
}
