// One backend, probed in a process of its own (see probe.ts for why): opens it, checks a small
// kernel round trip, and with a model shape measures training chars/s. Prints one JSON line.
import { createEngine, type BackendName } from './create-engine.js';
import { SOFTWARE_RENDERER, checkEngine } from '../engine/self-check.js';
import { CHECKED, type ProbeRequest, type ProbeAnswer } from './probe.js';
import { installWebGpu } from '../engine/gpujs/webgpu-node.js';
import { firstLine } from '../engine/gpujs/reason.js';
import { createGpuJsEngine, type GpuJsMode } from '../engine/gpujs/index.js';
import { measureTrainSpeed } from '../train/throughput.js';
import { measureSampleSpeed } from '../sample/sample-speed.js';
import { counts, instrument, resetCounts } from '../engine/gpujs/transfer-count.js';

/** The GPU backends whose launches and transfers are counted (the wrapping is process-wide). */
const COUNTED = new Set(['webgpu', 'headlessgl', 'gpujs:webgpu', 'gpujs:headlessgl']);

async function main(): Promise<ProbeAnswer> {
  const req = JSON.parse(process.argv[2] ?? '{}') as ProbeRequest;
  // Before the engine: headless-gl binds a context's methods when it is made (transfer-count.ts).
  // Where that fails the mode cannot work either, and opening it says why in its own words.
  let counted = !!req.shape && COUNTED.has(req.backend);
  if (counted) counted = await instrument(req.backend.replace('gpujs:', '')).then(() => true, () => false);
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
    const soft: ProbeAnswer = software ? { ok: true, software: true, reason: `a software renderer (${software}), not a GPU` } : { ok: true };
    if (!req.shape) return soft;
    process.stdout.write(`${CHECKED}\n`);
    const s = req.shape, steps = s.steps ?? 2;
    let taken = { launches: 0, uploads: 0, downloads: 0 };
    const r = await measureTrainSpeed(engine, s.config, s.batch, s.seq, steps, 1, (phase) => {
      if (phase === 'start') resetCounts();
      else taken = { ...counts };
    });
    const answer: ProbeAnswer = { ...soft, charsPerSec: r.charsPerSec };
    if (counted) {
      answer.counts = {
        launches_per_step: taken.launches / steps, uploads_per_step: taken.uploads / steps, blocking_downloads_per_step: taken.downloads / steps,
      };
    }
    if (req.sample) answer.sampleCharsPerSec = (await measureSampleSpeed(engine, s.config, { chars: 200, repeats: 2 })).charsPerSec;
    return answer;
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
