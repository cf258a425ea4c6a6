// The worker body, as source text so `new Worker(code, { eval: true })` runs it the same from
// src/ under vitest and from dist/. A worker spins briefly after each command (training issues
// ops back to back, and a futex wake-up costs tens of microseconds), then sleeps in Atomics.wait.
import { ERROR, NT, PENDING, SEQ } from './layout.js';

export const SPIN_MS = 0.5;

export const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, tid } = workerData;
const run = new WebAssembly.Instance(module, { env: { memory } }).exports.run;
const ctl = new Int32Array(memory.buffer, 0, 64);
let seen = Atomics.load(ctl, ${SEQ});
parentPort.postMessage('ready');
for (;;) {
  let s = Atomics.load(ctl, ${SEQ});
  if (s === seen) {
    const until = performance.now() + ${SPIN_MS};
    while ((s = Atomics.load(ctl, ${SEQ})) === seen && performance.now() < until);
    while ((s = Atomics.load(ctl, ${SEQ})) === seen) Atomics.wait(ctl, ${SEQ}, seen);
  }
  seen = s;
  const nt = Atomics.load(ctl, ${NT});
  if (nt < 0) break;
  try { run(tid, nt); } catch { Atomics.store(ctl, ${ERROR}, 1); }
  if (Atomics.sub(ctl, ${PENDING}, 1) === 1) Atomics.notify(ctl, ${PENDING});
}
`;
