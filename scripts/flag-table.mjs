// Prints the flag reference's table (docs/flags.md, between its `flags` markers), or with --write puts it there.
import { readFileSync, writeFileSync } from 'node:fs';
import { buildProgram } from '../dist/cli/program.js';
import { flagTable } from '../dist/cli/flag-table.js';

const table = flagTable(buildProgram());
if (process.argv.includes('--write')) {
  const readme = new URL('../docs/flags.md', import.meta.url);
  const text = readFileSync(readme, 'utf8');
  const re = /(<!-- flags:start[^>]*-->\n)[\s\S]*?(<!-- flags:end -->)/;
  if (!re.test(text)) throw new Error('docs/flags.md has no <!-- flags:start --> ... <!-- flags:end --> markers');
  writeFileSync(readme, text.replace(re, `$1${table}\n$2`));
} else {
  console.log(table);
}
