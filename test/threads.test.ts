// The default thread count: busy cores measured from two os.cpus() samples, one thread per free core.
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { busyCores, defaultThreads, threadsFor } from '../src/engine/threads.js';

const t = (user: number, nice: number, sys: number, idle: number, irq = 0) => ({ user, nice, sys, idle, irq });

describe('default simd thread count', () => {
  it('counts user, system and interrupt time as busy, idle and niced time as free', () => {
    const before = [t(100, 0, 10, 1000), t(50, 5, 5, 2000)];
    // cpu 0: 90 user + 10 sys of 100 ms; cpu 1: 100 ms niced.
    const after = [t(190, 0, 20, 1000), t(50, 105, 5, 2000)];
    expect(busyCores(before, after, 2)).toBeCloseTo(1, 10);
    // cpu 1 idle instead of niced: still one busy core; both fully busy: two.
    expect(busyCores(before, [t(190, 0, 20, 1000), t(50, 5, 5, 2100)], 2)).toBeCloseTo(1, 10);
    expect(busyCores(before, [t(190, 0, 20, 1000), t(140, 5, 5, 2000, 10)], 2)).toBeCloseTo(2, 10);
  });

  it('scales the machine-wide busy share to the cores this process may use', () => {
    const before = [t(0, 0, 0, 0), t(0, 0, 0, 0), t(0, 0, 0, 0), t(0, 0, 0, 0)];
    const after = [t(100, 0, 0, 0), t(0, 0, 0, 100), t(0, 0, 0, 100), t(0, 0, 0, 100)];
    expect(busyCores(before, after, 2)).toBeCloseTo(0.5, 10);
    expect(busyCores(before, before, 2)).toBe(0);
  });

  it('gives one thread per free core, never fewer than one nor more than the cores', () => {
    expect(threadsFor(2, 0.1)).toBe(2);
    expect(threadsFor(2, 0.9)).toBe(1);
    expect(threadsFor(2, 3)).toBe(1);
    expect(threadsFor(8, 2.2)).toBe(6);
    expect(threadsFor(4, -1)).toBe(4);
  });

  it('measures this machine within its cores', async () => {
    const n = await defaultThreads();
    expect(Number.isInteger(n) && n >= 1 && n <= os.availableParallelism()).toBe(true);
  });
});
