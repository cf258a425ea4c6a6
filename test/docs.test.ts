// The front door and the docs: the flag reference is rendered from the parser's own definitions
// (this fails when a flag, its default or its help changes without `node scripts/flag-table.mjs
// --write`), every relative link of README.md and docs/ resolves to a file and, with a #fragment,
// to one of its headings, and the README stays a front door.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { flagTable } from '../src/cli/flag-table.js';
import { buildProgram } from '../src/cli/program.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const docs = ['README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    out.add(m[1].trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-'));
  }
  return out;
}

describe('the flag reference', () => {
  const table = flagTable(buildProgram());

  it('lists every flag of every command, help included', () => {
    const program = buildProgram();
    for (const cmd of program.commands) {
      const leaves = cmd.commands.length > 0 ? cmd.commands : [cmd];
      for (const leaf of leaves) {
        for (const o of leaf.options) expect(table).toContain(`\`${o.flags}\``);
      }
    }
    expect(table).toContain('`--dropout <p>`');
    expect(table).toContain('| corpus get |');
  });

  it('is the table in docs/flags.md', () => {
    const text = readFileSync(path.join(root, 'docs/flags.md'), 'utf8');
    const m = /<!-- flags:start[^>]*-->\n([\s\S]*?)\n<!-- flags:end -->/.exec(text);
    expect(m, 'docs/flags.md has flags:start/flags:end markers').not.toBeNull();
    expect(m![1]).toBe(table);
  });
});

describe('README and docs', () => {
  it('every relative link resolves, fragments included', () => {
    const broken: string[] = [];
    let seen = 0;
    for (const doc of docs) {
      const text = readFileSync(path.join(root, doc), 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = m[1];
        if (/^[a-z]+:/i.test(link)) continue;
        seen++;
        const [file, frag] = link.split('#');
        const target = file ? path.join(path.dirname(path.join(root, doc)), file) : path.join(root, doc);
        if (!existsSync(target)) { broken.push(`${doc}: ${link} (no such file)`); continue; }
        if (frag && target.endsWith('.md') && !anchors(readFileSync(target, 'utf8')).has(frag)) broken.push(`${doc}: ${link} (no such heading)`);
      }
    }
    expect(seen).toBeGreaterThan(20);
    expect(broken).toEqual([]);
  });

  it('the README is a front door: about 250 lines at most, naming the test command .ci/run runs', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    expect(readFileSync(path.join(root, '.ci/run'), 'utf8')).toContain('npm ci && npm test && npm run test:gpu');
    expect(readme).toContain('npm ci && npm test && npm run test:gpu');
  });
});
