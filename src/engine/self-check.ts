// An engine's self-check: a small kernel round trip whose answer is known exactly (an adapter that
// answers can still fail to run a shader).
import type { Engine } from './engine-api.js';

/** Renderer names of the software rasterisers that stand in for a GPU on machines without one. */
export const SOFTWARE_RENDERER = /llvmpipe|lavapipe|softpipe|swiftshader|software/i;

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
