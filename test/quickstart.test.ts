// The quickstart runs end to end (build, training, final validation, sample) on a reduced budget:
// CHARNN_QUICKSTART_TIME is read by scripts/quickstart.mjs alone.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CPU_BATCH, GATE_NORM_ON_CPU } from '../src/train/autosize.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

describe('npm run quickstart', () => {
  // Asynchronous on purpose: a test worker blocked in spawnSync for over a minute (a loaded
  // machine) misses vitest's 60 s reply deadline and fails a run in which every test passed.
  it('trains, validates and ends with a sample', async () => {
    const r = await run(process.execPath, [path.join(root, 'scripts', 'quickstart.mjs')], { ...process.env, CHARNN_QUICKSTART_TIME: '8s' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/validation loss \d+\.\d+ nats\/char/);
    // No GPU here: the budget sized a GRU the cpu engine's way, and the sample ran through its plan.
    expect(r.stderr).toMatch(new RegExp(`model for this budget: gru \\d+×\\d+${GATE_NORM_ON_CPU ? ' with normalised gates' : ''}, embedding \\d+, batch ${CPU_BATCH}×64`));
    expect(r.stderr).toMatch(/A sample from/);
    // The sample is the last thing printed: it continues the prime.
    expect(r.stdout.trimEnd().length).toBeGreaterThan(300);
    expect(r.stdout.startsWith('The ')).toBe(true);
  });
});

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env, timeout: 300_000 });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
