// Builds everything `npm run build` promises: the TypeScript CLI and library into dist/, and the
// WebAssembly SIMD kernels from their AssemblyScript source. Kept as one script so that `npm test`
// and `npm run quickstart` need no install hooks (the project sets ignore-scripts, see .npmrc).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build: ${path.basename(cmd)} ${args.join(' ')} failed`);
    process.exit(r.status ?? 1);
  }
}

run(bin('tsc'), ['-p', 'tsconfig.json']);
const asmEntry = path.join(root, 'src/engine/simd/assembly/index.ts');
if (existsSync(asmEntry)) {
  const config = path.join(root, 'src/engine/simd/assembly/asconfig.json');
  // Two variants of the same source (assembly/madd.ts): plain SIMD, and relaxed SIMD with fused
  // multiply-adds; the engine picks one at start-up (src/engine/simd/variant.ts).
  run(bin('asc'), [asmEntry, '--config', config]);
  run(bin('asc'), [asmEntry, '--config', config, '--enable', 'relaxed-simd', '--outFile', path.join(root, 'dist/simd/kernels-relaxed.wasm')]);
}
