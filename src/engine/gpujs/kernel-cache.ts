// Compiled kernels, one per source, output size, constants and argument sizes. gpu.js fixes a
// kernel's output size at build, and its webasm backend bakes argument sizes into the module
// (a size change means a rebuild), so every distinct shape gets its own compiled kernel.
import type { GPU, IKernelRunShortcut, IGPUKernelSettings } from 'gpu.js';
import type { ArrayArg, KernelArg } from './backend.js';
import type { KernelSource } from './kernels.js';
import { UserError } from '../../errors.js';

/** Largest array a float32-indexing kernel addresses exactly. */
export const FLOAT32_INDEX_LIMIT = 1 << 24;

export class KernelCache {
  private readonly kernels = new Map<string, IKernelRunShortcut>();

  /**
   * @param indexLimit webasm and the GPU backends compute indices in float32, so an array longer
   *   than 2^24 would be read at the wrong places; cpu mode indexes in doubles (Infinity).
   */
  constructor(
    private readonly gpu: GPU,
    private readonly settings: IGPUKernelSettings,
    private readonly mode: string,
    private readonly indexLimit: number,
  ) {}

  get(k: KernelSource, outLen: number, constants: Record<string, number>, args: KernelArg[]): IKernelRunShortcut {
    const sizes = args.map((a) => (typeof a === 'number' ? 's' : String((a as ArrayArg).size)));
    const largest = Math.max(outLen, ...args.map((a) => (typeof a === 'number' ? 0 : a.size)));
    if (largest > this.indexLimit) {
      throw new UserError(
        `the gpu.js ${this.mode} backend indexes in float32 and cannot address ${largest} floats in one kernel ` +
          `(${k.name}; limit ${this.indexLimit}): use a smaller model or another backend`,
      );
    }
    const key = `${k.name}|${outLen}|${JSON.stringify(constants)}|${sizes.join(',')}`;
    let kernel = this.kernels.get(key);
    if (!kernel) {
      // Loops are bounded by constants, which gpu.js treats as compile-time bounds; should it ever
      // take a loop for a dynamic one, it would cap it at loopMaxIterations, so no cap may bite.
      const loopMaxIterations = Math.max(1000, ...Object.values(constants)) + 1;
      kernel = this.gpu.createKernel(k.src, { ...this.settings, output: [outLen], constants });
      kernel.setLoopMaxIterations(loopMaxIterations);
      this.kernels.set(key, kernel);
    }
    return kernel;
  }

  clear(): void {
    for (const kernel of this.kernels.values()) kernel.destroy();
    this.kernels.clear();
  }
}

/** Resolves lazily held arguments into the values gpu.js receives. */
export function resolveArgs(args: KernelArg[]): unknown[] {
  return args.map((a) => (typeof a === 'number' ? a : a.get()));
}
