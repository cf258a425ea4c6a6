// Which gpu.js modes exist on this machine, and how to open one. Opening never prints: gpu.js
// swallows a missing `gl` build itself, and the `webgpu` package is imported by webgpu-node.ts so
// its load error becomes a reason string instead of a crash.
import { createRequire } from 'node:module';
import gpujs from 'gpu.js';
import type { GPU as GPUType } from 'gpu.js';
import { UserError } from '../../errors.js';
import { firstLine } from './reason.js';
import { installWebGpu } from './webgpu-node.js';

export { firstLine } from './reason.js';

const { GPU } = gpujs;

export type GpuJsMode = 'cpu' | 'webasm' | 'headlessgl' | 'webgpu' | 'gpu';
export const GPUJS_MODES: readonly GpuJsMode[] = ['cpu', 'webasm', 'webgpu', 'headlessgl', 'gpu'];

/** gpu.js kernel classes whose tensors live on a GPU. */
const GL_MODES = new Set(['headlessgl', 'webgl', 'webgl2']);

export interface OpenedMode {
  gpu: GPUType;
  /** Tensors live on the device (pipeline textures/buffers) rather than in host memory. */
  device: boolean;
}

/** Opens a gpu.js instance in `mode`, or resolves with why it cannot. */
export async function openMode(mode: GpuJsMode): Promise<OpenedMode | string> {
  switch (mode) {
    case 'cpu':
      return { gpu: new GPU({ mode: 'cpu' }), device: false };
    case 'webasm':
      if (!GPU.isWebAssemblySupported) return 'WebAssembly is not supported by this runtime';
      return { gpu: new GPU({ mode: 'webasm' }), device: false };
    case 'headlessgl':
      if (!GPU.isHeadlessGLSupported) return `no headless-gl context (${glLoadError() ?? 'gl could not create a context'})`;
      return { gpu: new GPU({ mode: 'headlessgl' }), device: true };
    case 'webgpu': {
      const installed = await installWebGpu();
      if (!installed.ok) return installed.reason;
      if (!(await GPU.isWebGPUAvailable())) return 'no WebGPU adapter answered';
      return { gpu: new GPU({ mode: 'webgpu' }), device: true };
    }
    case 'gpu': {
      // gpu.js's own pick; without a GL context it falls to webasm, which is not a GPU.
      const gpu = new GPU({ mode: 'gpu' });
      const picked = (gpu as unknown as { Kernel: { mode: string } | null }).Kernel?.mode ?? 'none';
      if (GL_MODES.has(picked)) return { gpu, device: true };
      gpu.destroy().catch(() => undefined);
      return `gpu.js found no GPU backend (it would use ${picked}; headless-gl: ${glLoadError() ?? 'no context'})`;
    }
  }
}

/** Like openMode, but an unavailable mode is the user's to fix (pick another backend). */
export async function openModeOrThrow(mode: GpuJsMode): Promise<OpenedMode> {
  if (!GPUJS_MODES.includes(mode)) {
    throw new UserError(`unknown gpu.js backend "${String(mode)}" (expected one of ${GPUJS_MODES.join(', ')})`);
  }
  let opened: OpenedMode | string;
  try {
    opened = await openMode(mode);
  } catch (e) {
    opened = firstLine(e);
  }
  if (typeof opened === 'string') throw new UserError(`backend ${mode} is not available here: ${opened}`);
  return opened;
}

function glLoadError(): string | null {
  try {
    createRequire(import.meta.url)('gl');
    return null;
  } catch (e) {
    const why = firstLine(e);
    // The `bindings` package lists every path it tried; only the gist is useful to a user.
    if (why.startsWith('Could not locate the bindings file')) return "the gl package's native module is not built";
    return `the gl package did not load: ${why}`;
  }
}

