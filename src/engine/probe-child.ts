// One backend, probed in a process of its own (see probe.ts for why): opens it, checks a small
// kernel round trip, and with a model shape measures training chars/s. Prints one JSON line.
import { createEngine, type BackendName } from './select.js';
import { CHECKED, checkEngine, type ProbeRequest, type ProbeAnswer } from './probe-check.js';
import { firstLine } from './gpujs/reason.js';
import { createGpuJsEngine, type GpuJsMode } from './gpujs/index.js';
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
