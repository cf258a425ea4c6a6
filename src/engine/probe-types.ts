// The shared part of a backend probe: a small kernel round trip whose answer is known exactly
// (an adapter that answers can still fail to run a shader).
import type { Engine } from './engine-api.js';
import type { ModelConfig } from '../model/config.js';

export interface ProbeShape {
  config: ModelConfig;
  batch: number;
  seq: number;
  /** Timed training steps after one warm-up step (default 2). */
  steps?: number;
}

export interface ProbeRequest {
  backend: string;
  threads?: number;
  shape?: ProbeShape;
  /** Also sampling chars/s at the shape's model (batch 1), for the GPU report. */
  sample?: boolean;
}

/** What crosses between host and device in one training step, counted below gpu.js (GPU backends). */
export interface StepCounts {
  launches_per_step: number;
  uploads_per_step: number;
  /** Reads the host waits for; a quiet step (one that shows nothing) makes none. */
  blocking_downloads_per_step: number;
}

export interface ProbeAnswer {
  ok: boolean;
  reason?: string;
  charsPerSec?: number;
  /** The measurement ran out of time: the backend works, and charsPerSec is only an upper bound. */
  bound?: boolean;
  /** The "GPU" is a software renderer (llvmpipe, lavapipe, SwiftShader): a CPU, never chosen by auto. */
  software?: boolean;
  /** GPU backends measured at a shape: per training step, over the timed steps. */
  counts?: StepCounts;
  /** With `sample`: one stream's sampling chars/s. */
  sampleCharsPerSec?: number;
}

/** Renderer names of the software rasterisers that stand in for a GPU on machines without one. */
export const SOFTWARE_RENDERER = /llvmpipe|lavapipe|softpipe|swiftshader|software/i;

/** What the child prints once the kernel check has passed, before it measures. */
export const CHECKED = 'charnn-probe: checked';

/** Null when the engine computes a known sum of squares exactly, else what went wrong. */
export async function checkEngine(engine: Engine): Promise<string | null> {
  const data = Float32Array.from([1, -2, 3.5, 0.25, 7, -1]);
  const t = engine.tensor(8);
  engine.write(t, data, 1);
  const out = engine.tensor(1);
  engine.sumSquares({ out, x: t, len: 8 });
  const [got] = await engine.read(out);
  const want = data.reduce((s, v) => s + v * v, 0);
  return got === want ? null : `test kernel returned ${got}, expected ${want}`;
}
