// Probing backends in child processes. Why a process per probe:
// - a GPU driver can crash the process that uses it (a native abort is not an exception), and a
//   probe must never take the user's run down with it;
// - headless-gl (ANGLE over GLX) and Dawn's OpenGL ES backend cannot both run kernels in one
//   process: the second makes its GL context current and Xlib aborts the process (seen on Mesa
//   22 under Xvfb), so a probe of one must not share a process with the other.
// The child answers with one JSON line; anything else (a crash, a hang) becomes the reason.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../package-root.js';
import type { ModelConfig } from '../model/config.js';

export interface ProbeShape {
  config: ModelConfig;
  batch: number;
  seq: number;
  /** Timed training steps after one warm-up step (default 2). */
  steps?: number;
}

export interface ProbeRequest {
  backend: string;
  threads?: number;
  shape?: ProbeShape;
  /** Also sampling chars/s at the shape's model (batch 1), for the GPU report. */
  sample?: boolean;
}

/** What crosses between host and device in one training step, counted below gpu.js (GPU backends). */
export interface StepCounts {
  launches_per_step: number;
  uploads_per_step: number;
  /** Reads the host waits for; a quiet step (one that shows nothing) makes none. */
  blocking_downloads_per_step: number;
}

export interface ProbeAnswer {
  ok: boolean;
  reason?: string;
  charsPerSec?: number;
  /** The measurement ran out of time: the backend works, and charsPerSec is only an upper bound. */
  bound?: boolean;
  /** The "GPU" is a software renderer (llvmpipe, lavapipe, SwiftShader): a CPU, never chosen by auto. */
  software?: boolean;
  /** GPU backends measured at a shape: per training step, over the timed steps. */
  counts?: StepCounts;
  /** With `sample`: one stream's sampling chars/s. */
  sampleCharsPerSec?: number;
}

/** What the child prints once the kernel check has passed, before it measures. */
export const CHECKED = 'charnn-probe: checked';


/** Longest a probe may take: a first GPU kernel compile on a software renderer takes seconds. */
export const PROBE_TIMEOUT_MS = 120_000;
/**
 * Longest a speed measurement may take once the backend has passed its check. A backend that
 * cannot do a warm-up and two steps in this time is slow at this shape (a GPU on a software
 * renderer: minutes per step), and waiting longer would only make every first run slow.
 */
export const MEASURE_DEADLINE_MS = 20_000;

export function probeChildPath(): string {
  return path.join(packageRoot(), 'dist', 'select', 'probe-child.js');
}

export function probeInChild(req: ProbeRequest, timeoutMs = PROBE_TIMEOUT_MS, measureMs = MEASURE_DEADLINE_MS): Promise<ProbeAnswer> {
  const child = probeChildPath();
  if (!existsSync(child)) return Promise.resolve({ ok: false, reason: `charnn is not built (no ${child}; run npm run build)` });
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [child, JSON.stringify(req)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '', checkedAt = 0;
    let timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!checkedAt && out.includes(CHECKED)) {
        checkedAt = performance.now();
        clearTimeout(timer);
        timer = setTimeout(() => p.kill('SIGKILL'), measureMs);
      }
    });
    p.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    p.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: `the probe process did not start: ${e.message}` });
    });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop() ?? '';
      try {
        const answer = JSON.parse(last) as ProbeAnswer;
        if (typeof answer.ok === 'boolean') return resolve(answer);
      } catch {
        // not an answer: the child died first
      }
      if (checkedAt && signal === 'SIGKILL' && req.shape) {
        const steps = (req.shape.steps ?? 2) + 1;
        const charsPerSec = (steps * req.shape.batch * req.shape.seq) / (measureMs / 1000);
        return resolve({ ok: true, bound: true, charsPerSec, reason: `a warm-up and ${steps - 1} training steps took longer than ${measureMs / 1000} s` });
      }
      const how = signal === 'SIGKILL' ? `timed out after ${timeoutMs / 1000} s` : signal ? `died of ${signal}` : `exited with ${code}`;
      const detail = err.trim().split('\n').filter((l) => l.trim() && !l.startsWith('Warning:')).pop();
      resolve({ ok: false, reason: `the ${req.backend} probe ${how}${detail ? `: ${detail.trim()}` : ''}` });
    });
  });
}
