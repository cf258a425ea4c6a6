// Paths the system refuses are one line naming the path and what to do, never a stack trace or a
// hang: symlink loops in every role, unreadable files, folders that cannot be made (/proc),
// arguments that are not UTF-8, binary prime files; a dumb terminal gets no escape codes, a full
// disk never cuts --log's last line, and info shows a big checkpoint's header before checking it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint/index.js';
import { bin, charnn as run, expectOneLineError, isRoot, requireBuild, small, type RunOptions } from './cli-run.js';

const dir = mkdtempSync(path.join(tmpdir(), 'charnn-files-'));
const corpus = path.join(dir, 'corpus.txt');
const ckpt = path.join(dir, 'model.ckpt');
const charnn = (args: string[], o: RunOptions = {}) => run(dir, args, o);
const has = (cmd: string) => spawnSync(cmd, ['--version']).status === 0;
const full = path.join(dir, 'full');

/** Mounts a tmpfs of `size` at `at`, or says why not (not root, no mount permission). */
function tmpfs(at: string, size: string): string | null {
  if (!isRoot) return 'mounting a small tmpfs needs root';
  mkdirSync(at, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', at], { encoding: 'utf8' });
  return r.status === 0 ? null : `mount failed: ${r.stderr.trim()}`;
}

const noTmpfs = tmpfs(full, '64k');

beforeAll(() => {
  requireBuild();
  chmodSync(dir, 0o755); // another user reads the checkpoint in the permission test
  writeFileSync(corpus, 'To be, or not to be, that is the question:\nWhether tis nobler in the mind to suffer\n'.repeat(40));
  const r = charnn(['train', corpus, ...small, '--steps', '10', '--out', ckpt, '--json']);
  if (r.code !== 0) throw new Error(r.err);
});
afterAll(() => {
  if (!noTmpfs) spawnSync('umount', [full]);
  rmSync(dir, { recursive: true, force: true }); // the big checkpoint is 192 MiB
});

describe('paths the system refuses', () => {
  it('a symlink loop in any role is one line naming it', () => {
    symlinkSync('loop-b', path.join(dir, 'loop-a'));
    symlinkSync('loop-a', path.join(dir, 'loop-b'));
    const train = ['train', corpus, ...small, '--steps', '2', '--out', path.join(dir, 'l.ckpt')];
    for (const args of [
      ['info', 'loop-a'], ['sample', 'loop-a'], ['eval', 'loop-a', corpus], ['eval', ckpt, 'loop-a'], ['bench', ckpt, '--on', 'loop-a'],
      ['train', 'loop-a', '--steps', '2'], [...train, '--val', 'loop-a'], [...train, '--log', 'loop-a'], ['train', '--resume', 'loop-a', '--steps', '20'],
      ['train', corpus, ...small, '--steps', '2', '--out', 'loop-a'], ['sample', ckpt, '--output', 'loop-a'], ['sample', ckpt, '--prime-file', 'loop-a'],
      ['corpus', 'get', 'tinyshakespeare', '--corpus-dir', 'loop-a/corpora'],
    ]) {
      expectOneLineError(charnn(args), /loop-a.*symbolic links/);
    }
  });

  it.runIf(existsSync('/proc/self'))('a folder that cannot be made under /proc ends at once in one line', () => {
    const o = { timeout: 30_000 };
    expectOneLineError(charnn(['train', corpus, ...small, '--steps', '2', '--out', '/proc/charnn-test/m.ckpt'], o), /--out .*cannot create folder \/proc\/charnn-test/);
    expectOneLineError(charnn(['sample', ckpt, '--output', '/proc/charnn-test/a/b.txt'], o), /--output .*cannot create folder \/proc\/charnn-test/);
    expectOneLineError(charnn(['corpus', 'get', 'tinyshakespeare', '--corpus-dir', '/proc/charnn-test'], o), /\/proc\/charnn-test/);
    expectOneLineError(charnn(['train', corpus, ...small, '--steps', '2', '--out', '/proc/self/m.ckpt'], o), /--out .*cannot write to folder \/proc\/self/);
  });

  const asNobody = isRoot && has('setpriv') ? null : 'needs root and setpriv to run the bin as another user';
  it.skipIf(asNobody)(`files another user cannot read are one line${asNobody ? ` (SKIPPED: ${asNobody})` : ''}`, () => {
    const secret = path.join(dir, 'secret.txt'), secretCkpt = path.join(dir, 'secret.ckpt');
    copyFileSync(corpus, secret);
    copyFileSync(ckpt, secretCkpt);
    chmodSync(secret, 0o600);
    chmodSync(secretCkpt, 0o600);
    chmodSync(ckpt, 0o644);
    const prefix = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
    for (const args of [['eval', ckpt, secret], ['bench', ckpt, '--on', secret], ['sample', ckpt, '--prime-file', secret], ['info', secretCkpt], ['eval', secretCkpt, corpus]]) {
      expectOneLineError(charnn(args, { prefix }), /cannot read .*secret\.(txt|ckpt): permission denied/);
    }
    expectOneLineError(charnn(['train', corpus, ...small, '--steps', '2', '--out', path.join(dir, 'theirs.ckpt')], { prefix }), /--out .*permission denied/);
  });

  it('an argument that is not UTF-8 is refused in one line, and nothing is written under another name', () => {
    const latin1 = (args: string) => spawnSync('sh', ['-c', `exec "$0" "$1" ${args}`, process.execPath, bin], { cwd: dir, encoding: 'utf8' });
    copyFileSync(corpus, Buffer.from(path.join(dir, 'caf\xe9.txt'), 'latin1'));
    const before = readdirSync(dir).sort();
    for (const args of [`eval model.ckpt "$(printf 'caf\\351.txt')"`, `train corpus.txt --steps 1 --out "$(printf 'caf\\351.ckpt')"`, `sample model.ckpt --prime "$(printf 'caf\\351')"`]) {
      const r = latin1(args);
      expectOneLineError({ code: r.status, out: r.stdout, err: r.stderr }, /not valid UTF-8 \("caf\\xE9(\.txt|\.ckpt)?"\)/);
    }
    expect(readdirSync(dir).sort()).toEqual(before);
    // A U+FFFD typed on purpose is a name like any other.
    copyFileSync(corpus, path.join(dir, 'x\uFFFD.txt'));
    const typed = charnn(['eval', ckpt, 'x\uFFFD.txt', '--json']);
    expect(typed.code, typed.err).toBe(0);
  });
});

describe('text, terminals and disks', () => {
  it('a binary, UTF-16 or non-UTF-8 prime file is refused; skipped characters are counted, a few shown', () => {
    const files: [string, Buffer][] = [['nul.bin', Buffer.from('ab\0cd')], ['utf16.txt', Buffer.from('\ufeffhi', 'utf16le')], ['latin1.txt', Buffer.from('caf\xe9', 'latin1')]];
    for (const [name, bytes] of files) {
      writeFileSync(path.join(dir, name), bytes);
      expectOneLineError(charnn(['sample', ckpt, '--prime-file', name, '--length', '5']), new RegExp(`--prime-file: ${name.replace('.', '\\.')} .*(UTF-8|UTF-16)`));
    }
    writeFileSync(path.join(dir, 'cjk.txt'), Array.from({ length: 3000 }, (_, i) => String.fromCodePoint(0x4e00 + i)).join('').repeat(50));
    const r = charnn(['sample', ckpt, '--prime-file', 'cjk.txt', '--length', '5']);
    expect(r.code, r.err).toBe(0);
    const note = r.err.trim().split('\n').filter((l) => l.includes('skipped'));
    expect(note).toHaveLength(1);
    expect(note[0]).toMatch(/skipped 150,000 characters .* and 2,980 more distinct$/);
    expect(note[0].length).toBeLessThan(200);
  });

  it.runIf(has('script'))('TERM=dumb on a terminal gets no colour or cursor codes', () => {
    const cmd = (term: string) => `stty cols 100 rows 30; TERM=${term} '${process.execPath}' '${bin}' train '${corpus}' ${small.join(' ')} --steps 12 --out '${path.join(dir, 'tty.ckpt')}'`;
    const onTerm = (term: string) => spawnSync('script', ['-qfec', cmd(term), '/dev/null'], { encoding: 'utf8', cwd: dir, timeout: 60_000, env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined } });
    const dumb = onTerm('dumb');
    expect(dumb.status, dumb.stdout).toBe(0);
    expect(dumb.stdout).not.toMatch(/\x1b/);
    expect(dumb.stdout).toMatch(/trained 12 steps/);
    expect(onTerm('xterm').stdout).toMatch(/\x1b\[/); // the same run on a capable terminal does draw
  });

  it.skipIf(noTmpfs)(`a full disk stops --log at its last whole line, with one warning${noTmpfs ? ` (SKIPPED: ${noTmpfs})` : ''}`, () => {
    writeFileSync(path.join(full, 'pad'), Buffer.alloc(40_000));
    const log = path.join(full, 'log.jsonl');
    const r = charnn(['train', corpus, ...small, '--steps', '300', '--out', path.join(dir, 'logged.ckpt'), '--log', log, '--json']);
    expect(r.code, r.err).toBe(0);
    const text = readFileSync(log, 'utf8');
    expect(text.length).toBeGreaterThan(1000);
    expect(text.slice(-100)).toMatch(/\}\n$/);
    for (const line of text.trimEnd().split('\n')) JSON.parse(line);
    expect(r.err.trim().split('\n')).toEqual([expect.stringMatching(/--log .*no space left on the device; the log stops here, training goes on/)]);
  });

  it('info prints a large checkpoint\'s header first and verifies it without holding it', async () => {
    const ck = await loadCheckpoint(ckpt);
    const meta = { ...ck.metadata };
    for (const k of ['format', 'format_version', 'data_sha256', 'header_sha256']) delete meta[k];
    const tensors = [...ck.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
    const big = path.join(dir, 'big.ckpt');
    const n = 48 << 20; // 192 MiB of carried state
    await saveCheckpoint(big, { metadata: meta, tensors: [...tensors, { name: 'train.big', shape: [n], data: new Float32Array(n) }] });
    const rss = path.join(dir, 'rss.mjs');
    writeFileSync(rss, `import { writeSync } from 'node:fs';\nprocess.on('exit', () => writeSync(2, 'maxRSS ' + process.resourceUsage().maxRSS + '\\n'));\n`);
    const r = charnn(['info', big], { node: ['--import', rss] });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/parameters[\s\S]*verified\s+checksum matches/);
    const kb = Number(/maxRSS (\d+)/.exec(r.err)![1]);
    expect(kb).toBeLessThan(150 * 1024); // holding the file would take over 192 MiB
    // A damaged last byte: the header's facts are out before the data is found corrupt.
    const fd = openSync(big, 'r+'), last = Buffer.alloc(1), at = statSync(big).size - 1;
    readSync(fd, last, 0, 1, at);
    writeSync(fd, Buffer.from([last[0] ^ 0xff]), 0, 1, at);
    closeSync(fd);
    const bad = charnn(['info', big]);
    expect(bad.out).toMatch(/architecture\s+lstm[\s\S]*file size/);
    expectOneLineError(bad, /big\.ckpt is corrupted \(checksum mismatch\)/);
  });
});
