// Backends are named for what a user chooses: `cpu` is the fast engine, gpu.js's own CPU modes
// say they are gpu.js fallbacks, and the old names keep working for old scripts and checkpoints.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backendName, BACKENDS } from '../src/engine/backends.js';

const dir = mkdtempSync(path.join(tmpdir(), 'charnn-backends-'));
const text = path.join(dir, 'text.txt');
writeFileSync(text, 'the quick brown fox jumps over the lazy dog. '.repeat(200));

function trainOn(backend: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, [
    'bin/charnn.js', 'train', text, '--backend', backend, '--layers', '1', '--hidden', '16', '--embed', '8', '--batch', '2', '--seq', '8',
    '--steps', '3', '--eval-every', '100', '--json', '--out', path.join(dir, `${backend}.ckpt`),
  ], { encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

describe('backend names', () => {
  it('maps the old names and nothing else', () => {
    expect(backendName('simd')).toBe('cpu');
    expect(backendName('webasm')).toBe('gpujs-webasm');
    expect(backendName('cpu')).toBe('cpu');
    expect(backendName('gpu')).toBeNull();
    for (const b of BACKENDS) expect(backendName(b)).toBe(b);
  });

  it('--backend cpu trains on the fast engine (its kernels named), and simd is the same engine', () => {
    for (const b of ['cpu', 'simd']) {
      const s = trainOn(b);
      expect(s.backend).toBe('cpu');
      expect(['relaxed', 'plain']).toContain(s.kernels);
    }
  });

  it("gpu.js's CPU modes are reached as gpujs-cpu and gpujs-webasm (webasm still accepted)", () => {
    expect(trainOn('gpujs-cpu').backend).toBe('gpujs-cpu');
    expect(trainOn('webasm').backend).toBe('gpujs-webasm');
  });

  it('an unknown name is one line naming the choices', () => {
    const r = spawnSync(process.execPath, ['bin/charnn.js', 'train', text, '--backend', 'cuda', '--steps', '1'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--backend.*cuda|cuda.*--backend/);
    expect(r.stderr).toMatch(/cpu/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
