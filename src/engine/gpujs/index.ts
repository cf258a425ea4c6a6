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
import { type GpuJsMode, openModeOrThrow } from './modes.js';

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
