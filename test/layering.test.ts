// The floor plan, checked: cli on top; then select (which engine: it measures training, sampling
// and eval at a model's shape); then train, eval and sample; then
// model; then engine, text and checkpoint at the bottom, with the few shared root modules
// (src/*.ts) below everything. An import may only go down or stay on its floor.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'src');

/** What each folder may import besides itself and the root modules. */
const MAY_IMPORT: Record<string, string[]> = {
  cli: ['select', 'train', 'eval', 'sample', 'model', 'engine', 'text', 'checkpoint'],
  select: ['train', 'eval', 'sample', 'model', 'engine', 'text', 'checkpoint'],
  train: ['eval', 'model', 'engine', 'text', 'checkpoint'],
  eval: ['model', 'engine', 'text', 'checkpoint'],
  sample: ['model', 'engine', 'text', 'checkpoint'],
  model: ['engine', 'text', 'checkpoint'],
  engine: [],
  text: [],
  checkpoint: [],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const floorOf = (file: string): string => {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length === 1 ? '' : rel[0];
};

describe('the floor plan', () => {
  it('every import goes down or stays on its floor', () => {
    const wrong: string[] = [];
    let seen = 0;
    for (const f of files(SRC)) {
      const from = floorOf(f);
      if (!from || f.includes(`${path.sep}assembly${path.sep}`)) continue;
      expect(Object.keys(MAY_IMPORT), `a new folder ${from}: give it a floor`).toContain(from);
      for (const m of readFileSync(f, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
        const to = floorOf(path.resolve(path.dirname(f), m[1]));
        seen++;
        if (to && to !== from && !MAY_IMPORT[from].includes(to)) wrong.push(`${path.relative(SRC, f)} imports ${m[1]}`);
      }
    }
    expect(seen).toBeGreaterThan(300);
    expect(wrong).toEqual([]);
  });
});
