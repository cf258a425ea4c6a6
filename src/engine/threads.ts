// How many threads the simd engine runs when the user names none.
//
// A command ends when its last block ends, so a thread that shares its core with a busy process
// makes every op wait for the scheduler. Threads claim blocks dynamically (assembly/layout.ts),
// which bounds the wait to one block, but each op still needs every thread to check in once; on
// a machine whose cores are all taken, one thread per free core is faster (measured: see the
// README's threads note). The load average lags by a minute and counts processes that have since
// gone, so the busy cores are measured: CPU time spent by everything over a short window.
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long the busy-core measurement looks, in ms (the kernel counts CPU time in 10 ms ticks). */
export const SAMPLE_MS = 150;

type Times = os.CpuInfo['times'];

/**
 * Cores' worth of CPU time other processes used between two os.cpus() samples: user, system
 * and interrupt time count; idle and nice time do not (niced work yields to ours). Scaled to the
 * cores this process may use, since os.cpus() lists the whole machine.
 */
export function busyCores(before: Times[], after: Times[], cores: number): number {
  let busy = 0, total = 0;
  for (let i = 0; i < Math.min(before.length, after.length); i++) {
    const a = before[i], b = after[i];
    const used = (b.user - a.user) + (b.sys - a.sys) + (b.irq - a.irq);
    busy += used;
    total += used + (b.nice - a.nice) + (b.idle - a.idle);
  }
  return total > 0 ? (busy / total) * cores : 0;
}

/** One thread per core that is not busy, at least one. */
export function threadsFor(cores: number, busy: number): number {
  return Math.max(1, Math.min(cores, Math.round(cores - busy)));
}

/** The default thread count: every core this process may use, less the ones busy right now. */
export async function defaultThreads(): Promise<number> {
  const cores = os.availableParallelism();
  if (cores <= 1) return 1;
  const before = os.cpus().map((c) => c.times);
  await sleep(SAMPLE_MS);
  const after = os.cpus().map((c) => c.times);
  return threadsFor(cores, busyCores(before, after, cores));
}
