// `charnn info`: what a checkpoint holds. The header's facts come first, read without the data;
// then the data is verified (checksum, finite values) in pieces, so a gigabyte checkpoint shows
// its facts at once and is checked without being held in memory.
import { engineLabel } from '../engine/engine-api.js';
import type { Command } from 'commander';
import { inspectModel, verifyModel } from '../model/store.js';
import { countParams, paramLayout } from '../model/params.js';
import { jsonFlag } from './common-flags.js';
import { outColor as chalk, stdout } from './io.js';
import { addFlags } from './parse.js';
import { fmt, fmtInt, jsonLine, makeUi } from './ui.js';

export function registerInfo(program: Command): void {
  const cmd = program
    .command('info')
    .description('show the architecture, size and training record of a checkpoint')
    .argument('<checkpoint>', '.ckpt file written by charnn train');
  addFlags(cmd, [jsonFlag('print one JSON object')])
    .addHelpText('after', `
Example:
  charnn info checkpoints/shakespeare.ckpt`)
    .action(async (ckpt: string, f: { json?: boolean }) => {
      const ui = makeUi(!!f.json);
      const m = await inspectModel(ckpt);
      const size = m.file.size;
      const params = countParams(paramLayout(m.config));
      const t = m.training;
      const info = {
        file: ckpt, bytes: size, ...m.config, params, tokenizer: m.tokenizer ?? 'chars', vocab_size: m.vocab.size, steps: t.step,
        best_val_loss: t.best_val_loss, val_loss: t.val_loss, val_bpc: t.val_loss === null ? null : t.val_loss / Math.LN2,
        corpus: t.corpus, corpus_name: t.corpus_name ?? null, documents: t.documents ?? null, corpus_chars: t.corpus_chars ?? null, split: t.split ?? null, backend: t.backend, kernels: t.kernels ?? null, chars_seen: t.chars_seen, seconds: t.seconds, resumable: m.resumable,
      };
      if (ui.json) {
        await verifyModel(ckpt, m);
        return jsonLine({ ...info, verified: true });
      }
      const row = (k: string, v: string) => stdout.write(`  ${chalk.dim(k.padEnd(18))}${v}\n`);
      stdout.write(`${chalk.bold(ckpt)}\n`);
      const blocks = (m.config.mlp ? `, pre-norm residual blocks with ${m.config.mlp}× MLP` : '') + (m.config.zoneout ? `, zoneout ${m.config.zoneout}` : '') + (m.config.gateNorm ? ', RMS-normalised gates' : '');
      row('architecture', `${m.config.cell}, ${m.config.layers} layer${m.config.layers > 1 ? 's' : ''} × ${m.config.hidden} hidden, embedding ${m.config.embed}${blocks}`);
      row('parameters', fmtInt(params));
      row('vocabulary', m.tokenizer === 'bytes' ? '256 byte values (a byte-level model: figures are per byte)' : `${m.vocab.size} characters`);
      row('training steps', `${fmtInt(t.step)} (${fmtInt(t.chars_seen)} characters seen, on ${engineLabel({ name: t.backend, variant: t.kernels })})`);
      row('best val estimate', t.best_val_loss === null ? '—' : `${fmt(t.best_val_loss)} nats/char`);
      row('validation loss', t.val_loss === null ? '—' : `${fmt(t.val_loss)} nats/char (${fmt(t.val_loss / Math.LN2)} bits/char, whole split)`);
      row('corpus', t.corpus_name ? `${t.corpus_name} (${t.corpus})` : t.corpus === '-' ? 'standard input' : t.corpus.split('\n').join(', '));
      if (typeof t.documents === 'number') {
        const unit = m.tokenizer === 'bytes' ? 'bytes' : 'characters';
        row('text', `${fmtInt(t.documents)} file${t.documents === 1 ? '' : 's'}${typeof t.corpus_chars === 'number' ? `, ${fmtInt(t.corpus_chars)} ${unit}` : ''}${t.documents > 1 ? ' (read with a separator, U+0000, between files)' : ''}`);
      }
      if (t.split) row('split', String(t.split));
      row('file size', `${fmtInt(size)} bytes`);
      await stdout.flush();
      await ui.wait(`Verifying ${fmtInt(size)} bytes`, () => verifyModel(ckpt, m));
      row('verified', 'checksum matches, all values finite');
    });
}
