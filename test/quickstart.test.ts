// The quickstart runs end to end (build, training, final validation, sample) on a reduced budget:
// CHARNN_QUICKSTART_TIME is read by scripts/quickstart.mjs alone.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

describe('npm run quickstart', () => {
  it('trains, validates and ends with a sample', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'quickstart.mjs')], {
      cwd: root, encoding: 'utf8', timeout: 300_000, env: { ...process.env, CHARNN_QUICKSTART_TIME: '8s' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/validation loss \d+\.\d+ nats\/char/);
    expect(r.stderr).toMatch(/A sample from/);
    // The sample is the last thing printed: it continues the prime.
    expect(r.stdout.trimEnd().length).toBeGreaterThan(300);
    expect(r.stdout.startsWith('The ')).toBe(true);
  });
});
