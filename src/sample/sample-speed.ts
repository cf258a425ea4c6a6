// Sampling speed at a named config with random weights, for `charnn bench --speed`: the whole
// sampler (step, logits, pick, decode) in chars/s, and where a character's microseconds go.
import { median } from '../stats.js';
import type { Engine } from '../engine/engine-api.js';
import type { ModelConfig } from '../model/config.js';
import { InferSession } from '../model/infer-session.js';
import { Weights } from '../model/model.js';
import { initParams, paramLayout } from '../model/params.js';
import { Rng } from '../rng.js';
import { Vocab } from '../text/vocab.js';
import { Picker } from './pick.js';
import { sample } from './sample.js';

export interface SampleSpeedOptions {
  /** Characters per stream in each timed run (default 2000). */
  chars?: number;
  /** Streams sampled side by side (default 1: latency-bound batch-1 sampling). */
  streams?: number;
  /** Timed runs; the median is reported (default 5). */
  repeats?: number;
}

export interface SampleSpeed {
  /** Median over the runs of characters generated (all streams) per second. */
  charsPerSec: number;
  runs: number[];
  /** Median microseconds per character step of the engine alone: a step with logits, and a feed without. */
  stepUs: number;
  feedUs: number;
  /** Microseconds per pick of one stream's next character. */
  pickUs: number;
}


export async function measureSampleSpeed(engine: Engine, config: ModelConfig, o: SampleSpeedOptions = {}): Promise<SampleSpeed> {
  const chars = o.chars ?? 2000, streams = o.streams ?? 1, repeats = o.repeats ?? 5;
  const w = new Weights(engine, config, initParams(config, paramLayout(config), new Rng(1)));
  // A vocabulary of the config's size: printable code points from '!' on.
  const vocab = Vocab.fromCodePoints(Array.from({ length: config.vocab }, (_, i) => 33 + i));
  const once = () => sample(w, vocab, { prime: '', length: chars, temperature: 1, seed: 1, count: streams, keep: false });
  await once(); // warm-up: compiles, packs, wakes the workers
  const runs: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const s = await once();
    runs.push(s.generated / s.seconds);
  }
  const session = new InferSession(w, streams), ids = new Array<number>(streams).fill(0);
  const time = async (f: () => unknown, n: number): Promise<number> => {
    const t = performance.now();
    for (let i = 0; i < n; i++) await f();
    return ((performance.now() - t) * 1000) / n;
  };
  const n = Math.min(chars, 1000), step: number[] = [], feed: number[] = [];
  for (let r = 0; r < repeats; r++) {
    step.push(await time(() => session.step(ids), n));
    feed.push(await time(() => session.feed(ids), n));
  }
  const logits = await session.step(ids), picker = new Picker(config.vocab, { temperature: 1 }), rng = new Rng(1);
  session.dispose();
  const t = performance.now();
  for (let i = 0; i < 10000; i++) picker.pick(logits, 0, rng);
  const pickUs = ((performance.now() - t) * 1000) / 10000;
  w.dispose();
  return { charsPerSec: median(runs), runs, stepUs: median(step), feedUs: median(feed), pickUs };
}
