// The GPU report (scripts/gpu-report.sh; docs/gpu.md): training and sampling chars/s of the cpu
// engine and each GPU mode that works here, with the launches and transfers of a training step
// counted below gpu.js, for LSTM and GRU (2 layers) and minGRU (3 layers, MLP 2) at each hidden
// size and batch. Every measurement runs in a process of its own (src/engine/probe.ts), so a
// driver crash or a shape the device cannot hold costs one row, not the report.
// Options (all optional): --cells lstm,gru,mingru --hidden 256,512,1024 --batch 32,256 --seq 64
//   --embed 64 --steps 3 --backends cpu,webgpu,headlessgl --deadline 600 (seconds a measurement may take)
import { parseArgs } from 'node:util';
import os from 'node:os';
import { probeBackend } from '../dist/select/auto-choice.js';
import { validateConfig } from '../dist/model/config.js';
import { installWebGpu } from '../dist/engine/gpujs/webgpu-node.js';

const { values: f } = parseArgs({
  options: {
    cells: { type: 'string', default: 'lstm,gru,mingru' }, hidden: { type: 'string', default: '256,512,1024' },
    batch: { type: 'string', default: '32,256' }, seq: { type: 'string', default: '64' }, embed: { type: 'string', default: '64' },
    steps: { type: 'string', default: '3' }, backends: { type: 'string', default: 'cpu,webgpu,headlessgl' },
    deadline: { type: 'string', default: '600' },
  },
});
const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
const nums = (s) => list(s).map(Number);
const LAYERS = { lstm: 2, gru: 2, rnn: 2, mingru: 3, minlstm: 3 };
const measureMs = Number(f.deadline) * 1000;

// Which modes work here at all (a fast probe without a shape), before the long part.
const backends = [];
for (const b of list(f.backends)) {
  const s = await probeBackend(b, null);
  if (s.works) backends.push(b);
  else console.error(`${b}: not measured (${s.reason})`);
}
const webgpu = backends.includes('webgpu') ? await installWebGpu() : null;

const n = (x) => (x === undefined ? '—' : Math.round(x).toLocaleString('en-US'));
const c = (x) => (x === undefined ? '—' : Number.isInteger(x) ? String(x) : x.toFixed(2));
const rows = [], notes = [];
for (const cell of list(f.cells)) {
  for (const hidden of nums(f.hidden)) {
    const config = validateConfig({ cell, vocab: 65, embed: Number(f.embed), hidden, layers: LAYERS[cell], mlp: cell.startsWith('min') ? 2 : 0 });
    for (const batch of nums(f.batch)) {
      for (const backend of backends) {
        const s = await probeBackend(backend, { config, batch, seq: Number(f.seq), steps: Number(f.steps) }, { sample: true, measureMs });
        const k = s.counts;
        if (!s.works || s.bound) notes.push(`${backend} ${cell} ${config.layers}×${hidden} batch ${batch}: ${s.reason}`);
        const ok = s.works && !s.bound;
        rows.push(`| ${backend} | ${cell} | ${config.layers}×${hidden} | ${batch} | ${ok ? n(s.charsPerSec) : '—'} | ${ok ? n(s.sampleCharsPerSec) : '—'} | ${c(k?.launches_per_step)} | ${c(k?.uploads_per_step)} | ${c(k?.blocking_downloads_per_step)} |`);
        process.stderr.write('.');
      }
    }
  }
}
process.stderr.write('\n');
console.log(`## charnn GPU report, ${new Date().toISOString().slice(0, 10)}\n`);
console.log(`${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores), Node ${process.version}` +
  (webgpu?.ok ? `; WebGPU: ${webgpu.info.adapter} via ${webgpu.info.via}` : '') +
  `. Sequences of ${f.seq}, embedding ${f.embed}, vocabulary 65; training chars/s is the median of ${f.steps} steps after a warm-up, sampling one stream; counts are per training step, below gpu.js (GPU modes only).\n`);
console.log('| backend | cell | layers×hidden | batch | train chars/s | sample chars/s | launches/step | uploads/step | blocking downloads/step |');
console.log('|---|---|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
if (notes.length) {
  console.log('\nRows without figures:');
  for (const x of notes) console.log(`- ${x}`);
}
