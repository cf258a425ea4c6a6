// The gpu.js backend of the Engine interface: every op is a gpu.js kernel, in any of gpu.js's
// modes. cpu and webasm keep tensors in host memory; headlessgl, webgpu and gpu keep them on
// the device.
import type { GPU } from 'gpu.js';
import type { Engine } from '../engine.js';
import type { Backend } from './backend.js';
import { DeviceBackend } from './device.js';
import { GpuJsEngine } from './engine.js';
import { HostBackend } from './host.js';
import { GPUJS_MODES, type GpuJsMode, firstLine, openMode, openModeOrThrow } from './modes.js';

export type { GpuJsMode } from './modes.js';
export { GPUJS_MODES } from './modes.js';

/** Throws UserError when `mode` does not work on this machine. */
export async function createGpuJsEngine(mode: GpuJsMode): Promise<Engine> {
  const { gpu, device } = await openModeOrThrow(mode);
  return new GpuJsEngine(mode, backendFor(mode, gpu, device));
}

function backendFor(mode: GpuJsMode, gpu: GPU, device: boolean): Backend {
  if (device) return new DeviceBackend(gpu, mode);
  return new HostBackend(gpu, mode === 'cpu' ? 'cpu' : 'webasm');
}

export interface GpuJsModeProbe {
  mode: string;
  ok: boolean;
  reason?: string;
}

/**
 * Which modes work here: a mode is ok only if it opens and a small kernel round trip returns
 * the right numbers (an adapter that answers can still fail to run a shader).
 */
export async function probeGpuJsModes(): Promise<GpuJsModeProbe[]> {
  const results: GpuJsModeProbe[] = [];
  for (const mode of GPUJS_MODES) {
    results.push(await probeOne(mode));
  }
  return results;
}

async function probeOne(mode: GpuJsMode): Promise<GpuJsModeProbe> {
  let engine: GpuJsEngine | null = null;
  try {
    const opened = await openMode(mode);
    if (typeof opened === 'string') return { mode, ok: false, reason: opened };
    engine = new GpuJsEngine(mode, backendFor(mode, opened.gpu, opened.device));
    const data = Float32Array.from([1, -2, 3.5, 0.25, 7, -1]);
    const t = engine.tensor(8);
    engine.write(t, data, 1);
    const out = engine.tensor(1);
    engine.sumSquares(out, 0, t, 0, 8);
    const [got] = await engine.read(out);
    const want = data.reduce((s, v) => s + v * v, 0);
    if (got !== want) return { mode, ok: false, reason: `test kernel returned ${got}, expected ${want}` };
    return { mode, ok: true };
  } catch (e) {
    return { mode, ok: false, reason: firstLine(e) };
  } finally {
    engine?.dispose();
  }
}
