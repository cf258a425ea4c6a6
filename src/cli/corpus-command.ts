// `charnn corpus list|get|path`: the catalogue of known corpora and the local cache of them.
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { getCommand } from '../text/cache.js';
import { corpusPath, getCorpus, listCorpora } from '../text/corpora.js';
import type { Progress } from '../text/download.js';
import { errColor, outColor as chalk, stderr, stdout } from './io.js';
import { fmtInt, jsonLine, makeUi } from './ui.js';

interface CorpusFlags {
  json?: boolean;
  corpusDir?: string;
}

const DIR_HELP = 'cache folder (default: $CHARNN_CORPORA, else corpora/ in the charnn package, else ~/.cache/charnn/corpora)';

export function registerCorpus(program: Command): void {
  const corpus = program
    .command('corpus')
    .description('list, download and locate the corpora of the catalogue')
    .addHelpText('after', `
Examples:
  charnn corpus list
  charnn corpus get tinyshakespeare
  charnn train $(charnn corpus path tinyshakespeare)`);

  corpus
    .command('list')
    .description('show the catalogue: name, size, whether cached (and checked), licence, description')
    .option('--corpus-dir <dir>', DIR_HELP)
    .option('--json', 'print one JSON object per corpus')
    .action(async (f: CorpusFlags) => {
      const rows = await listCorpora({ corpusDir: f.corpusDir });
      if (f.json) {
        for (const { entry, cached, bytes, verified } of rows) jsonLine({ ...entry, cached, cached_bytes: bytes, verified });
        return;
      }
      // A listing hashes nothing: a file not yet checked (placed by hand, or changed since) says so.
      const table = rows.map(({ entry, cached, bytes, verified }) => [
        entry.name,
        size(bytes ?? entry.text.bytes ?? entry.download?.bytes),
        cached ? (verified ? chalk.green('cached') : chalk.yellow('unchecked')) : chalk.dim('no'),
        entry.licence,
        entry.description,
      ]);
      const head = ['name', 'size', 'cached', 'licence', 'description'];
      const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => visible(r[i]).length)));
      const line = (cells: string[]) => fit(cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i] - visible(c).length))).join('  '));
      stdout.write(chalk.bold(line(head)) + '\n');
      for (const r of table) stdout.write(line(r) + '\n');
    });

  corpus
    .command('get')
    .description('download, verify, unpack and cache a corpus of the catalogue')
    .argument('<name>', 'catalogue name (see charnn corpus list)')
    .option('--corpus-dir <dir>', DIR_HELP)
    .option('--json', 'print one JSON object')
    .addHelpText('after', `
Without network, the error says where to put the file by hand; get then verifies and unpacks it.
A cached text is checked against the catalogue (size and sha256) before get, train or eval use
it; the check is remembered beside it (.NAME.verified) until the file changes.

Example:
  charnn corpus get sotu`)
    .action(async (name: string, f: CorpusFlags) => {
      const ui = makeUi(!!f.json);
      const bar = f.json ? undefined : new DownloadBar();
      // Ctrl-C aborts the transfer so that its temporary file is removed before the exit.
      const abort = new AbortController();
      const onSigint = () => {
        abort.abort();
        process.exitCode = 130;
      };
      process.once('SIGINT', onSigint);
      try {
        const r = await getCorpus(name, {
          corpusDir: f.corpusDir,
          signal: abort.signal,
          onProgress: bar && ((p) => bar.update(p)),
          stepWith: (label, work) => {
            bar?.stop();
            return ui.wait(label, work);
          },
        });
        if (ui.json) return jsonLine(r);
        if (!r.fetched) ui.note(`${name} is already cached (${r.checked === 'hashed' ? 'checked now' : 'checked before, unchanged since'})`);
        if (r.unverified) ui.note(errColor.yellow(`the catalogue has no checksum for ${name}; the download's sha256 is ${r.sha256}`));
        stdout.write(r.path + '\n');
      } finally {
        process.off('SIGINT', onSigint);
        bar?.stop();
      }
    });

  corpus
    .command('path')
    .description('print where a corpus is cached (checking it first), or where get would put it')
    .argument('<name>', 'catalogue name (see charnn corpus list)')
    .option('--corpus-dir <dir>', DIR_HELP)
    .option('--json', 'print one JSON object')
    .action(async (name: string, f: CorpusFlags) => {
      const r = await corpusPath(name, { corpusDir: f.corpusDir });
      if (f.json) return jsonLine({ name, ...r });
      stdout.write(r.path + '\n');
      if (!r.cached) stderr.write(errColor.dim(`not downloaded yet: ${getCommand(name, { corpusDir: f.corpusDir })}`) + '\n');
    });
}

// The bar starts on the first progress report, so a cached corpus or a hand-placed file shows none.
class DownloadBar {
  private bar?: cliProgress.SingleBar;

  update(p: Progress): void {
    if (!process.stderr.isTTY) return;
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        {
          format: `${errColor.cyan('{bar}')} {percentage}% | {done} of {total} | {speed} | ETA {eta_formatted}`,
          barsize: 30,
          hideCursor: true,
          stream: process.stderr,
          etaBuffer: 100,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(p.total ?? 0, 0, { done: size(0), total: p.total === null ? '?' : size(p.total), speed: '' });
      this.started = Date.now();
    }
    const secs = (Date.now() - this.started) / 1000;
    this.bar.update(p.done, { done: size(p.done), speed: secs > 0.5 ? `${size(p.done / secs)}/s` : '' });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  private started = 0;
}

function size(bytes: number | undefined): string {
  if (bytes === undefined) return '?';
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(0)} kB`;
  return `${fmtInt(bytes)} B`;
}

// On a terminal, a row longer than the window is cut (the description goes last for this reason);
// piped output keeps whole rows.
function fit(row: string): string {
  const cols = process.stdout.isTTY ? process.stdout.columns : 0;
  return cols && visible(row).length > cols ? visible(row).slice(0, cols - 1) + '…' : row;
}

// Width as the terminal shows it: colour codes take no columns.
function visible(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '');
}
