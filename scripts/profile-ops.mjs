// Per-op time of one training step on an engine: every engine call is timed and labelled by the
// op and the model source line that made it, summed over the timed steps and shown per step.
// The simd engine runs ops synchronously, so wall time around a call is the op's time.
// Usage: node scripts/profile-ops.mjs [--model mingru --layers 3 --hidden 216 --embed 64 --mlp 2]
//        [--batch 32 --seq 128 --steps 5 --threads N --backend simd]
import { parseArgs } from 'node:util';
import { createSimdEngine } from '../dist/engine/simd/simd-engine.js';
import { validateConfig } from '../dist/model/config.js';
import { Weights, Workspace } from '../dist/model/model.js';
import { initParams, paramLayout } from '../dist/model/params.js';
import { Rng } from '../dist/rng.js';
import { AdamW } from '../dist/train/optimizer.js';

const { values: f } = parseArgs({
  options: {
    model: { type: 'string', default: 'mingru' }, layers: { type: 'string', default: '3' },
    hidden: { type: 'string', default: '216' }, embed: { type: 'string', default: '64' },
    mlp: { type: 'string', default: '2' }, batch: { type: 'string', default: '32' },
    seq: { type: 'string', default: '128' }, steps: { type: 'string', default: '5' },
    threads: { type: 'string' },
    // Process CPU time instead of wall time: steadier on a busy machine, meaningful with --threads 1.
    cpu: { type: 'boolean', default: false },
  },
});
const num = (s) => Number(s);
const config = validateConfig({
  cell: f.model, layers: num(f.layers), hidden: num(f.hidden), embed: num(f.embed),
  mlp: f.model.startsWith('min') ? num(f.mlp) : undefined, vocab: 65,
});
const B = num(f.batch), T = num(f.seq), steps = num(f.steps);
const inner = await createSimdEngine(f.threads ? { threads: num(f.threads) } : {});

const totals = new Map();
let timing = false;
const now = f.cpu ? () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; } : () => performance.now();
function site() {
  const lines = new Error().stack.split('\n');
  const l = lines.find((s) => /dist\/(model|train)\//.test(s));
  const m = l && /([a-z-]+)\.js:(\d+)/.exec(l);
  return m ? `${m[1]}:${m[2]}` : '?';
}
const e = new Proxy(inner, {
  get(target, prop) {
    const v = target[prop];
    if (typeof v !== 'function') return v;
    return (...args) => {
      if (!timing) return v.apply(target, args);
      const key = `${String(prop)} @${site()}`;
      const t0 = now();
      const r = v.apply(target, args);
      const dt = now() - t0;
      const o = totals.get(key) ?? { ms: 0, calls: 0 };
      o.ms += dt; o.calls++;
      totals.set(key, o);
      return r;
    };
  },
});

const rng = new Rng(1);
const w = new Weights(e, config, initParams(config, paramLayout(config), rng));
w.enableTraining();
const ws = new Workspace(w, B, T, true);
const opt = new AdamW(w, { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, clip: 1 });
const ids = new Float32Array(B * T), targets = new Float32Array(B * T);
let wall = 0;
for (let s = 0; s < steps + 1; s++) {
  for (let i = 0; i < ids.length; i++) { ids[i] = rng.int(config.vocab); targets[i] = rng.int(config.vocab); }
  timing = s > 0;
  const t0 = now();
  ws.setInputs(ids, targets);
  ws.forward(); ws.loss(); ws.backward();
  await opt.step(s + 1, 1e-3);
  await ws.lossSum();
  if (timing) wall += now() - t0;
}
inner.dispose();

const rows = [...totals].map(([k, o]) => ({ k, ms: o.ms / steps, calls: o.calls / steps }));
rows.sort((a, b) => b.ms - a.ms);
const byOp = new Map();
for (const r of rows) { const op = r.k.split(' ')[0]; byOp.set(op, (byOp.get(op) ?? 0) + r.ms); }
const stepMs = wall / steps;
console.log(`${f.model} ${f.layers}x${f.hidden} E${f.embed}${f.model.startsWith('min') ? ` mlp${f.mlp}` : ''} B${B} T${T}: ${stepMs.toFixed(1)} ms/step, ${Math.round(B * T / stepMs * 1000)} chars/s (with per-call ${f.cpu ? 'CPU' : 'wall'} timing)`);
console.log('\nper op:');
for (const [op, ms] of [...byOp].sort((a, b) => b[1] - a[1])) console.log(`  ${ms.toFixed(2).padStart(8)} ms  ${(100 * ms / stepMs).toFixed(1).padStart(5)}%  ${op}`);
console.log('\nper call site:');
for (const r of rows) console.log(`  ${r.ms.toFixed(2).padStart(8)} ms  ${String(r.calls).padStart(4)}x  ${r.k}`);
