// Which of gpu.js's modes work here, each checked by a kernel round trip; the GPU modes in a
// process of their own (see probe.ts).
import type { Engine } from '../engine/engine-api.js';
import { createGpuJsEngine, GPUJS_MODES, type GpuJsMode } from '../engine/gpujs/index.js';
import { firstLine } from '../engine/gpujs/reason.js';
import { checkEngine } from '../engine/self-check.js';
import { probeInChild } from './probe.js';

export interface GpuJsModeProbe {
  mode: string;
  ok: boolean;
  reason?: string;
}

/**
 * Which modes work here: a mode is ok only if it opens and a small kernel round trip returns
 * the right numbers (an adapter that answers can still fail to run a shader). The GPU modes are
 * probed in processes of their own (see ../probe.ts): a driver crash or two GL stacks in one
 * process must not take the caller down.
 */
export async function probeGpuJsModes(): Promise<GpuJsModeProbe[]> {
  const results: GpuJsModeProbe[] = [];
  for (const mode of GPUJS_MODES) {
    if (mode === 'cpu' || mode === 'webasm') {
      results.push(await probeHere(mode));
    } else {
      const a = await probeInChild({ backend: `gpujs:${mode}` });
      results.push({ mode, ok: a.ok, reason: a.reason });
    }
  }
  return results;
}

async function probeHere(mode: GpuJsMode): Promise<GpuJsModeProbe> {
  let engine: Engine | null = null;
  try {
    engine = await createGpuJsEngine(mode);
    const wrong = await checkEngine(engine);
    return wrong ? { mode, ok: false, reason: wrong } : { mode, ok: true };
  } catch (e) {
    return { mode, ok: false, reason: firstLine(e) };
  } finally {
    engine?.dispose();
  }
}
