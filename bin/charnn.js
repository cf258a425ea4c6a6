#!/usr/bin/env node
// Launches the built CLI; points at the build step when dist/ is missing.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('charnn is not built yet: run `npm run build` in its folder first\n');
  process.exit(1);
}
await import(main.href);
