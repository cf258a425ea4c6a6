// How many threads the simd engine runs when the user names none: one per core that is not busy.
//
// The main thread drives every op and the workers only help, so when another process takes a
// share of the cores the main thread loses that share too, and extra workers cannot win it back:
// measured on the 2-core machine (LSTM 2x256 B32 T128 training, chars/s, medians of interleaved
// runs), with one busy process 1 thread ran at 6,524 and 2 threads at 6,307 (the busy process
// keeps its core, and ours keeps the other whole); with other engineers' suites and engines
// running, 1 thread 4,670 and 2 threads 3,158. Only on a heavily oversubscribed machine did 2
// threads lead (three busy processes: 2,257 vs 1,721), by taking CPU from the others. Quiet,
// 2 threads ran at 9,986 against 6,339. Results are bit-identical for any thread count, so the
// choice changes speed only. The load average lags by a minute and counts processes that have
// since gone, so busy cores are measured: CPU time spent by everything over a short window.
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
