// Running the built bin from a test, and the one-line-error rule the CLI suites check.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const bin = path.join(root, 'bin', 'charnn.js');
export const isRoot = process.getuid?.() === 0;
/** A tiny model that trains in a moment. */
export const small = ['--layers', '1', '--hidden', '16', '--embed', '8', '--batch', '4', '--seq', '16', '--eval-every', '5'];

export interface Run {
  code: number | null;
  out: string;
  err: string;
  /** Set when the run timed out (or could not start). */
  error?: Error;
}

export function requireBuild(): void {
  if (!existsSync(path.join(root, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first (npm test does)');
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** A command the bin runs under (setpriv ...). */
  prefix?: string[];
  /** Options for node itself (--import ...). */
  node?: string[];
  timeout?: number;
}

/** Runs `charnn args` in `cwd`. */
export function charnn(cwd: string, args: string[], o: RunOptions = {}): Run {
  const argv = [...(o.prefix ?? []), process.execPath, ...(o.node ?? []), bin, ...args];
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', cwd, timeout: o.timeout ?? 120_000, env: { ...process.env, ...o.env } });
  return { code: r.status, out: r.stdout, err: r.stderr, error: r.error };
}

export function expectOneLineError(r: Run, fragment: RegExp): void {
  expect(r.error, 'timed out').toBeUndefined();
  expect(r.code, r.err).not.toBe(0);
  const lines = r.err.trim().split('\n').filter((l) => !l.startsWith('backend:'));
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(fragment);
  expect(r.err).not.toMatch(/\n\s+at /);
}
