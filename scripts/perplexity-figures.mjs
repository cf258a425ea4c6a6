// The README's dynamic-evaluation figures for one checkpoint: `node scripts/perplexity-figures.mjs
// CKPT [--other TEXT] [--corpus-dir DIR] [--threads N]`. Runs, and prints with the figures:
//   charnn eval CKPT tinyshakespeare                 static eval speed (the default segmented pass)
//   charnn eval CKPT tinyshakespeare --dynamic       static and dynamic bits/char, dynamic eval speed
//   charnn eval CKPT TEXT --split val --dynamic      the same on a text of another style (default sotu)
// and reads the training speed from the checkpoint's record (characters seen / training seconds).
// Catalogue corpora must be cached (`charnn corpus get sotu`), or found in --corpus-dir.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const [ckpt, ...rest] = process.argv.slice(2);
if (!ckpt) {
  console.error('usage: node scripts/perplexity-figures.mjs CKPT [--other TEXT] [--corpus-dir DIR] [--threads N]');
  process.exit(2);
}
const opt = (name, dflt) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : dflt;
};
const other = opt('--other', 'sotu');
const shared = [...(opt('--corpus-dir') ? ['--corpus-dir', opt('--corpus-dir')] : []), ...(opt('--threads') ? ['--threads', opt('--threads')] : [])];

function charnn(args) {
  const all = [...args, ...(args[0] === 'eval' ? shared : []), '--json'];
  console.error(`$ charnn ${all.join(' ')}`);
  const r = spawnSync(process.execPath, [path.join(root, 'bin/charnn.js'), ...all], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(r.stderr.trim());
    process.exit(1);
  }
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const info = charnn(['info', ckpt]);
const stat = charnn(['eval', ckpt, 'tinyshakespeare']);
const shakes = charnn(['eval', ckpt, 'tinyshakespeare', '--dynamic']);
const away = charnn(['eval', ckpt, other, ...(/[/.]/.test(other) ? [] : ['--split', 'val']), '--dynamic']);
const f4 = (x) => x.toFixed(4);
const int = (x) => Math.round(x).toLocaleString('en-US');
const train = info.chars_seen / info.seconds;
const d = shakes;

console.log(`\n${ckpt}: ${info.cell} ${info.layers}×${info.hidden}, ${int(info.params)} parameters, ${int(info.steps)} steps`);
console.log(`dynamic evaluation: ${d.dynamic_rule}, lr ${d.dynamic_lr}, decay ${d.dynamic_decay}, segments of ${d.dynamic_seq}\n`);
console.log('| text | chars | static bits/char | dynamic bits/char | gain |');
console.log('|---|---:|---:|---:|---:|');
for (const r of [shakes, away]) {
  console.log(`| ${r.file} | ${int(r.chars)} | ${f4(r.bits_per_char)} | ${f4(r.dynamic_bits_per_char)} | ${f4(r.bits_per_char - r.dynamic_bits_per_char)} |`);
}
console.log('\n| pass | chars/s | against static eval |');
console.log('|---|---:|---:|');
console.log(`| static eval (${stat.streams} segments side by side) | ${int(stat.chars_per_sec)} | 1 |`);
console.log(`| dynamic eval (one stream, static column included) | ${int(d.chars_per_sec)} | ${(d.chars_per_sec / stat.chars_per_sec).toFixed(3)}× |`);
if (Number.isFinite(train)) console.log(`| training (as recorded in the checkpoint) | ${int(train)} | ${(train / stat.chars_per_sec).toFixed(3)}× |`);
