#!/usr/bin/env node
// Launches the built CLI; points at the build step when dist/ is missing.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

// The WebAssembly kernels run for seconds to hours: compile them optimised from the first call
// instead of spending V8's first ~20 ms of every kernel in its baseline tier.
v8.setFlagsFromString('--no-liftoff');

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('charnn is not built yet: run `npm run build` in its folder first\n');
  process.exit(1);
}
await import(main.href);
