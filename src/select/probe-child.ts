// One backend, probed in a process of its own (see probe.ts for why): opens it, checks a small
// kernel round trip, and with a model shape measures training chars/s. Prints one JSON line.
import { createEngine, type BackendName } from './create-engine.js';
import { SOFTWARE_RENDERER, checkEngine } from '../engine/self-check.js';
import { CHECKED, type ProbeRequest, type ProbeAnswer } from './probe.js';
import { installWebGpu } from '../engine/gpujs/webgpu-node.js';
import { firstLine } from '../engine/gpujs/reason.js';
import { createGpuJsEngine, type GpuJsMode } from '../engine/gpujs/index.js';
import { measureTrainSpeed } from '../train/throughput.js';

async function main(): Promise<ProbeAnswer> {
  const req = JSON.parse(process.argv[2] ?? '{}') as ProbeRequest;
  let engine;
  try {
    // "gpujs:MODE" opens any gpu.js mode (the gpu.js probe includes its "gpu" mode); other names are --backend names.
    engine = req.backend.startsWith('gpujs:')
      ? await createGpuJsEngine(req.backend.slice(6) as GpuJsMode)
      : (await createEngine(req.backend as BackendName, { threads: req.threads })).engine;
  } catch (e) {
    return { ok: false, reason: firstLine(e) };
  }
  try {
    const wrong = await checkEngine(engine);
    if (wrong) return { ok: false, reason: wrong };
    const software = await softwareRenderer(req.backend);
    if (software) return { ok: true, software: true, reason: `a software renderer (${software}), not a GPU` };
    if (!req.shape) return { ok: true };
    process.stdout.write(`${CHECKED}\n`);
    const s = req.shape;
    const r = await measureTrainSpeed(engine, s.config, s.batch, s.seq, s.steps ?? 2, 1);
    return { ok: true, charsPerSec: r.charsPerSec };
  } catch (e) {
    return { ok: false, reason: firstLine(e) };
  } finally {
    engine.dispose();
  }
}

/** The renderer's name when a GPU backend runs on a software rasteriser (webgpu reports its adapter). */
async function softwareRenderer(backend: string): Promise<string | null> {
  if (backend !== 'webgpu' && backend !== 'gpujs:webgpu') return null;
  const w = await installWebGpu();
  return w.ok && SOFTWARE_RENDERER.test(w.info.adapter) ? w.info.adapter : null;
}

main().then(
  (answer) => {
    process.stdout.write(`\n${JSON.stringify(answer)}\n`);
    process.exit(0);
  },
  (e) => {
    process.stdout.write(`\n${JSON.stringify({ ok: false, reason: firstLine(e) })}\n`);
    process.exit(0);
  },
);
