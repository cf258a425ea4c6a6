// The gpu.js backend of the Engine interface: every op is a gpu.js kernel, in any of gpu.js's
// modes. cpu and webasm keep tensors in host memory; headlessgl, webgpu and gpu keep them on
// the device.
import type { GPU } from 'gpu.js';
import type { Engine } from '../engine-api.js';
import { checkedEngine } from '../op-layer.js';
import type { Backend } from './backend.js';
import { DeviceBackend } from './device.js';
import { GpuJsEngine } from './gpujs-engine.js';
import { HostBackend } from './host.js';
import { GPUJS_MODES, type GpuJsMode, openModeOrThrow } from './modes.js';
import { firstLine } from './reason.js';
import { checkEngine } from '../probe-types.js';
import { probeInChild } from '../probe.js';

export type { GpuJsMode } from './modes.js';
export { GPUJS_MODES } from './modes.js';

/** Throws UserError when `mode` does not work on this machine. */
export async function createGpuJsEngine(mode: GpuJsMode): Promise<Engine> {
  const { gpu, device } = await openModeOrThrow(mode);
  return checkedEngine(new GpuJsEngine(gpuJsBackendName(mode), backendFor(mode, gpu, device)));
}

/** gpu.js's CPU modes are named as the fallbacks they are (--backend gpujs-cpu); its GPU modes by their API. */
export function gpuJsBackendName(mode: GpuJsMode): string {
  return mode === 'cpu' || mode === 'webasm' ? `gpujs-${mode}` : mode;
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
