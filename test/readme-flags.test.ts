// The README's flag table is rendered from the parser's own definitions; this fails when a flag,
// its default or its help changes without `node scripts/flag-table.mjs --write`.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { flagTable } from '../src/cli/flag-table.js';
import { buildProgram } from '../src/cli/program.js';

describe('README flag table', () => {
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

  it('is the table in README.md', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const m = /<!-- flags:start[^>]*-->\n([\s\S]*?)\n<!-- flags:end -->/.exec(readme);
    expect(m, 'README.md has flags:start/flags:end markers').not.toBeNull();
    expect(m![1]).toBe(table);
  });
});
