// --backend auto's decision from probe results (the probes themselves run in test/gpu and the CLI tests).
import { describe, expect, it } from 'vitest';
import { decide, type BackendStatus } from '../src/select/auto-choice.js';
import { probeInChild } from '../src/select/probe.js';

const simd = (cps: number): BackendStatus => ({ backend: 'cpu', works: true, charsPerSec: cps });

describe('auto', () => {
  it('takes a GPU backend only when it works and measured faster than simd', () => {
    const gl: BackendStatus = { backend: 'headlessgl', works: true, charsPerSec: 5000 };
    const wg: BackendStatus = { backend: 'webgpu', works: true, charsPerSec: 9000 };
    expect(decide([simd(4000), gl, wg], 2).backend).toBe('webgpu');
    expect(decide([simd(8000), gl, wg], 2).backend).toBe('webgpu');
    expect(decide([simd(10000), gl, wg], 2).backend).toBe('cpu');
    expect(decide([simd(4000), gl, { ...wg, works: false, reason: 'no adapter' }], 2).backend).toBe('headlessgl');
  });

  it('never takes a GPU whose measurement ran out of time, and says why simd was picked', () => {
    const slow: BackendStatus = { backend: 'webgpu', works: true, charsPerSec: 1e9, bound: true, reason: 'took longer than 20 s' };
    const d = decide([simd(10), slow, { backend: 'headlessgl', works: false, reason: 'no X server' }], 1);
    expect(d.backend).toBe('cpu');
    expect(d.reason).toMatch(/webgpu works but is slower here/);
    const none = decide([simd(10), { backend: 'webgpu', works: false, reason: 'no adapter' }, { backend: 'headlessgl', works: false, reason: 'no X server' }], 1);
    expect(none.reason).toMatch(/webgpu: no adapter; headlessgl: no X server/);
  });

  it('a probe of a backend that cannot open answers with the reason instead of failing', async () => {
    const a = await probeInChild({ backend: 'no-such-backend' });
    expect(a.ok).toBe(false);
    expect(a.reason).toMatch(/no-such-backend/);
  });
});
