// The worker body, as source text so `new Worker(code, { eval: true })` runs it the same from
// src/ under vitest and from dist/. A worker spins briefly after each command (training issues
// ops back to back, and a wake-up from Atomics.wait costs tens of microseconds), then sleeps in
// Atomics.wait. The spin adapts (see Spin): on a loaded machine the next command comes late,
// because the main thread is waiting for a core, and a worker spinning then only takes the core
// from the thread it waits for.
import { CLOSED, ERROR, EVERY, EXIT, KIND_BITS, NT, PENDING, SEQ, STATE } from './shared-layout.js';

/** Longest and shortest spin, in ms, before a thread sleeps in Atomics.wait. */
export const SPIN_MAX_MS = 0.5;
export const SPIN_MIN_MS = 0.02;

/**
 * An adaptive spin window: a spin that sees its event doubles the next window (up to SPIN_MAX_MS),
 * one that gives up halves it (down to SPIN_MIN_MS, short enough to cost nothing when every
 * spin fails and long enough to catch back-to-back commands again, which grows it back).
 */
export class Spin {
  private ms = SPIN_MAX_MS;

  /** Spins until `ready()` or the window ends; says whether the event came. */
  until(ready: () => boolean): boolean {
    const end = performance.now() + this.ms;
    let hit: boolean;
    while (!(hit = ready()) && performance.now() < end);
    this.ms = hit ? Math.min(SPIN_MAX_MS, this.ms * 2) : Math.max(SPIN_MIN_MS, this.ms / 2);
    return hit;
  }
}

// The loop of pool.ts's protocol from the worker's side: wait for a new sequence word; an EVERY
// command runs once and checks out through PENDING; a JOIN command is joined only while open,
// read only once inside, and left through STATE (which may mean joining a later command than
// the sequence word said: harmless, threads only claim what is left of whichever is open).
export const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, tid } = workerData;
const run = new WebAssembly.Instance(module, { env: { memory } }).exports.run;
const ctl = new Int32Array(memory.buffer, 0, 64);
const SPIN_MAX_MS = ${SPIN_MAX_MS}, SPIN_MIN_MS = ${SPIN_MIN_MS};
${Spin.toString()}
const spin = new Spin();
let seen = Atomics.load(ctl, ${SEQ});
parentPort.postMessage('ready');
for (;;) {
  let s = Atomics.load(ctl, ${SEQ});
  if (s === seen && !spin.until(() => (s = Atomics.load(ctl, ${SEQ})) !== seen)) {
    while ((s = Atomics.load(ctl, ${SEQ})) === seen) Atomics.wait(ctl, ${SEQ}, seen);
  }
  seen = s;
  const kind = s & ${(1 << KIND_BITS) - 1};
  if (kind === ${EXIT}) break;
  if (kind === ${EVERY}) {
    try { run(tid, Atomics.load(ctl, ${NT})); } catch { Atomics.store(ctl, ${ERROR}, 1); }
    if (Atomics.sub(ctl, ${PENDING}, 1) === 1) Atomics.notify(ctl, ${PENDING});
    continue;
  }
  let v = Atomics.load(ctl, ${STATE});
  for (let w; v !== ${CLOSED} && (w = Atomics.compareExchange(ctl, ${STATE}, v, v + 1)) !== v;) v = w;
  if (v === ${CLOSED}) continue;
  try { run(tid, Atomics.load(ctl, ${NT})); } catch { Atomics.store(ctl, ${ERROR}, 1); }
  if (Atomics.sub(ctl, ${STATE}, 1) === 1) Atomics.notify(ctl, ${STATE});
}
`;
