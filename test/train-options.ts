// The library's training options from one flat object, as the tests write them: the run's own
// fields, and any setting of the settings table (the rest at their defaults).
import { trainSettings, type TrainSettings } from '../src/model/settings.js';
import type { TrainOptions } from '../src/train/loop.js';

export type FlatTrainOptions = Omit<TrainOptions, 'settings' | 'source'> & Partial<Omit<TrainSettings, 'val' | 'resume' | 'out'>> & { corpus: string };

export function trainOptions(o: FlatTrainOptions): TrainOptions {
  const { engine, config, vocab, train, val, corpus, out, latest, resume, texts, save, load, shouldStop, signal, onEvent, ...settings } = o;
  return { engine, config, vocab, train, val, out, latest, resume, texts, save, load, shouldStop, signal, onEvent, source: { corpus }, settings: trainSettings(settings) };
}
