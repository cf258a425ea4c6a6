// What the gpu.js engine adds to the conformance suite (test/conformance), in every mode that
// runs on this machine (cpu and webasm; the GPU modes are probed but need hardware) and on the
// device-storage path run in cpu mode: mode probing, transfers, ops longer than one kernel pass,
// the float32 indexing limit, and the kernel cache.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Engine, Tensor } from '../src/engine/engine-api.js';
import gpujs from 'gpu.js';
import { DeviceBackend } from '../src/engine/gpujs/device.js';
import { checkedEngine } from '../src/engine/op-layer.js';
import { GpuJsEngine, MAX_PASS } from '../src/engine/gpujs/gpujs-engine.js';
import { createGpuJsEngine, gpuJsBackendName } from '../src/engine/gpujs/index.js';
import { probeGpuJsModes } from '../src/select/gpujs-modes.js';
import { createJsEngine } from '../src/engine/js/js-engine.js';
import { UserError } from '../src/errors.js';
import { gpuModes } from './engines.js';
import { expectClose, failOnConsoleOutput, prng, randoms } from './support.js';

failOnConsoleOutput();

describe('probeGpuJsModes', () => {
  it('reports cpu and webasm as working, and a reason for every mode that is not', async () => {
    const modes = await probeGpuJsModes();
    expect(modes.map((m) => m.mode).sort()).toEqual(['cpu', 'gpu', 'headlessgl', 'webasm', 'webgpu']);
    expect(modes.find((m) => m.mode === 'cpu')?.ok).toBe(true);
    expect(modes.find((m) => m.mode === 'webasm')?.ok).toBe(true);
    for (const m of modes.filter((x) => !x.ok)) expect(m.reason).toMatch(/\S/);
  });

  it('refuses an unavailable mode with a UserError naming it', async () => {
    const modes = await probeGpuJsModes();
    for (const m of modes.filter((x) => !x.ok)) {
      const attempt = createGpuJsEngine(m.mode as 'webgpu');
      await expect(attempt).rejects.toBeInstanceOf(UserError);
      await expect(createGpuJsEngine(m.mode as 'webgpu')).rejects.toThrow(`backend ${m.mode} is not available here:`);
    }
  });
});

const cpuVariants = [
  { label: 'cpu', mode: 'cpu', name: 'gpujs-cpu', make: () => createGpuJsEngine('cpu') },
  { label: 'webasm', mode: 'webasm', name: 'gpujs-webasm', make: () => createGpuJsEngine('webasm') },
  {
    label: 'cpu through the device-storage path',
    mode: 'cpu',
    make: async (): Promise<Engine> => checkedEngine(new GpuJsEngine(gpuJsBackendName('cpu'), new DeviceBackend(new gpujs.GPU({ mode: 'cpu' }), 'cpu'))),
  },
] as const;
// scripts/test-gpu.sh sets CHARNN_GPU_MODES: the same op checks then run on real device storage.
const variants = gpuModes.length
  ? gpuModes.map((m) => ({ label: m, mode: m, name: m, make: () => createGpuJsEngine(m) }))
  : cpuVariants;

describe.each(variants)('gpu.js engine: $label', ({ mode, name, make }) => {
  let e: Engine;
  const rng = prng(12345);

  beforeAll(async () => {
    e = await make();
  });
  afterAll(() => e.dispose());

  function load(data: Float32Array, pad = 0): [Tensor, number] {
    const t = e.tensor(data.length + 2 * pad);
    e.write(t, data, pad);
    return [t, pad];
  }

  it('is named as its --backend (gpujs-cpu, gpujs-webasm, webgpu, headlessgl)', () => {
    expect(e.name).toBe(gpuJsBackendName(mode));
  });

  it('writes, reads, zeroes and copies ranges', async () => {
    const t = e.tensor(10);
    expect(Array.from(await e.read(t))).toEqual(new Array(10).fill(0));
    e.write(t, Float32Array.from([1, 2, 3, 4]), 3);
    expect(Array.from(await e.read(t, 2, 6))).toEqual([0, 1, 2, 3, 4, 0]);
    const u = e.tensor(6);
    e.copy({ dst: u, dstOff: 1, src: t, srcOff: 4, len: 3 });
    expect(Array.from(await e.read(u))).toEqual([0, 2, 3, 4, 0, 0]);
    e.zero({ out: t, outOff: 4, len: 2 });
    expect(Array.from(await e.read(t))).toEqual([0, 0, 0, 1, 0, 0, 4, 0, 0, 0]);
    await e.sync();
  });

  it('pointwise ops split lengths over one kernel pass, in place', async () => {
    const len = MAX_PASS + 7, y = randoms(rng, len), dy = randoms(rng, len);
    const run = async (g: Engine) => {
      const yt = g.tensor(len), dyt = g.tensor(len);
      g.write(yt, y); g.write(dyt, dy);
      g.tanhBackward({ dx: dyt, dxOff: 2, y: yt, yOff: 1, dy: dyt, dyOff: 2, len: len - 2 });
      return g.read(dyt);
    };
    expectClose(await run(e), await run(createJsEngine()), 1e-5, 'tanhBackward dx');
  });

  it('sumSquares and adamw split buffers longer than one pass', async () => {
    const size = MAX_PASS + 1003, off = 2, len = MAX_PASS + 1000;
    const x = randoms(rng, size);
    const [xt] = load(x);
    const out = e.tensor(1);
    e.sumSquares({ out, x: xt, xOff: off, len });
    let want = 0;
    for (let i = off; i < off + len; i++) want += x[i]! * x[i]!;
    // Float32 partial sums of ~4M terms: looser than elsewhere, still far below any real bug.
    const [got] = await e.read(out);
    expect(Math.abs(got! - want) / want).toBeLessThan(1e-4);

    const zeros = e.tensor(size), ones = e.tensor(size), g = e.tensor(size);
    e.write(ones, new Float32Array(size).fill(1));
    e.write(g, new Float32Array(size).fill(2));
    const h = { lr: 0.5, beta1: 0.5, beta2: 0.5, eps: 0, weightDecay: 0, step: 1, gradScale: 1 };
    e.adamw({ param: ones, grad: g, m: zeros, v: e.tensor(size), off, len, ...h });
    // m = 1, v = 2, mhat = 2, vhat = 4: param = 1 − 0.5·2/2 = 0.5 inside the range, 1 outside.
    const p = await e.read(ones);
    for (const i of [0, 1, off, MAX_PASS - 1, MAX_PASS + 5, off + len - 1]) expect(p[i]).toBe(i >= off && i < off + len ? 0.5 : 1);
    expect(p[size - 1]).toBe(1);
    expect(p.filter((v) => v === 0.5).length).toBe(len);
  });

  if (mode === 'webasm') {
    it('refuses kernels too large for float32 indexing instead of computing garbage', () => {
      const row = e.tensor(4096), out = e.tensor(4097 * 4096);
      expect(() => e.broadcastRow({ out, row, rows: 4097, cols: 4096 })).toThrow(UserError);
    });
  }

  it('reuses compiled kernels across offsets and calls', async () => {
    // The same shape at a different offset must give the right answer from the cached kernel.
    const a = randoms(rng, 8), b = randoms(rng, 8);
    const t = e.tensor(24);
    e.write(t, a, 0);
    e.write(t, b, 8);
    const out = e.tensor(2);
    e.sumSquares({ out, x: t, len: 8 });
    e.sumSquares({ out, outOff: 1, x: t, xOff: 8, len: 8 });
    const got = await e.read(out);
    expectClose(got, [a.reduce((s, v) => s + v * v, 0), b.reduce((s, v) => s + v * v, 0)], 1e-5, 'sums of squares');
  });
});
