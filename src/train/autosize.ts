// Model and settings sized to a time budget on this machine: measure how fast each candidate
// trains here, then take the largest one that still sees enough characters in the budget. A
// recurrent character model that sees fewer than about CHARS_PER_PARAM characters per parameter
// is still far from what it could reach, and a smaller model that finishes its learning curve
// does better in the same time.
import type { Engine } from '../engine/engine.js';
import { measureTrainSpeed } from './throughput.js';

export interface SizedSettings {
  layers: number;
  hidden: number;
  embed: number;
  batch: number;
  seq: number;
  lr: number;
  dropout: number;
  /** Characters per second measured for this size here. */
  charsPerSec: number;
  /** How many candidates were measured, for the report. */
  measured: number;
}

export const CHARS_PER_PARAM = 6;

const CANDIDATES = [
  { layers: 2, hidden: 128, embed: 64, lr: 6e-3 },
  { layers: 2, hidden: 256, embed: 64, lr: 5e-3 },
  { layers: 2, hidden: 384, embed: 64, lr: 4e-3 },
  { layers: 2, hidden: 512, embed: 64, lr: 3e-3 },
  { layers: 3, hidden: 512, embed: 64, lr: 2e-3 },
  { layers: 3, hidden: 768, embed: 96, lr: 1.5e-3 },
];

export function lstmParams(vocab: number, layers: number, hidden: number, embed: number): number {
  let p = vocab * embed + hidden * vocab + vocab;
  for (let l = 0; l < layers; l++) p += ((l === 0 ? embed : hidden) + hidden + 1) * 4 * hidden;
  return p;
}

export async function sizeToBudget(e: Engine, vocab: number, seconds: number, batch = 32, seq = 128): Promise<SizedSettings> {
  let chosen: SizedSettings | null = null;
  let measured = 0;
  for (const c of CANDIDATES) {
    const speed = await measureTrainSpeed(e, { cell: 'lstm', vocab, ...c }, batch, seq, 2, 1);
    measured++;
    const seen = speed.charsPerSec * seconds;
    const fits = seen >= CHARS_PER_PARAM * lstmParams(vocab, c.layers, c.hidden, c.embed);
    if (!fits && chosen) break;
    chosen = { ...c, batch, seq, dropout: 0, charsPerSec: speed.charsPerSec, measured };
    if (!fits) break;
  }
  return { ...chosen!, measured };
}
