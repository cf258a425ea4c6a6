import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { brownSourceDir, convertBrownCorpus, ensureBrownCorpus } from '../src/text/brown.js';
import { convertBrownFile, detokenize } from '../src/text/brown-convert.js';

const source = (name: string) => readFileSync(path.join(brownSourceDir(), name), 'latin1');

describe('Brown Corpus conversion', () => {
  it('converts known passages of the real files', () => {
    const ca01 = convertBrownFile(source('ca01'));
    expect(ca01[0]).toBe(
      `The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced "no evidence" that any irregularities took place.`,
    );
    expect(ca01[2]).toMatch(/won by Mayor-nominate Ivan Allen Jr\.$/);
    expect(ca01[3]).toBe(
      `"Only a relative handful of such reports was received," the jury said, "considering the widespread interest in the election, the number of voters and the size of this city."`,
    );
    expect(ca01[7]).toBe('Merger proposed'); // a headline is a line of its own
    expect(ca01[9]).toBe(
      `The City Purchasing Department, the jury said, "is lacking in experienced clerical personnel as a result of city personnel policies." It urged that the city "take steps to remedy" this problem.`,
    );
    const ca02 = convertBrownFile(source('ca02')).join('\n');
    expect(ca02).toContain(`"We're getting more 'pro' letters than 'con' on horse race betting`);
    const cp01 = convertBrownFile(source('cp01')).join('\n');
    expect(cp01).toContain(`"Eh, Torino! She gave herself fancy airs!`);
    expect(cp01).toContain(`in the old country; but here he was just Signore or the Old Man.`);
  });

  it('undoes the tokenisation', () => {
    const w = (s: string) => detokenize(s.split(' '));
    expect(w("he said , `` I do n't know '' .")).toBe(`he said, "I don't know."`);
    expect(w("it 's ( or was ) fine ; wait ! ! ok ? ?")).toBe("it's (or was) fine; wait! ok?");
    expect(w("the ' Met ' is back")).toBe("the 'Met' is back");
    expect(w("said , ' Do it ' .")).toBe("said, 'Do it'.");
    expect(w("Allen Jr. .")).toBe('Allen Jr.');
    expect(w("`` at three A.M. '' .")).toBe('"at three A.M."');
    expect(w("a 1/8'' '' rod")).toBe('a 1/8" rod');
  });

  it('caches a plain-text corpus of about a million words', async () => {
    const file = await ensureBrownCorpus();
    expect(await ensureBrownCorpus()).toBe(file);
    const text = readFileSync(file, 'utf8');
    expect(statSync(file).size).toBeGreaterThan(5_500_000);
    expect(statSync(file).size).toBeLessThan(6_500_000);
    const words = text.split(/\s+/).length;
    expect(words).toBeGreaterThan(950_000);
    expect(words).toBeLessThan(1_100_000);
    expect(text.startsWith('The Fulton County Grand Jury said Friday')).toBe(true);
    // No word/tag remnants and no tokeniser spacing left (the corpus has real slashes: and/or, /r/).
    const remnants = /\S\/(at|nn|nns|np|in|jj|vb[dgnz]?|cc|rb|cs|pps|ppss|ppo|bez|bedz|hvd|md|``|'')(-[a-z]+)*(?=\s|$)/g;
    expect(text.match(remnants)).toBeNull();
    expect(text.match(/``|'''| [,.;:!?)](?=\s|$)|\( |^\s|[ \t]$| {2}|\n\n/gm)).toBeNull();
  });

  it('falls back to the next cache folder and matches a fresh conversion', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'charnn-brown-'));
    try {
      writeFileSync(path.join(tmp, 'file'), 'x');
      const blocked = path.join(tmp, 'file', 'corpora', 'brown.txt'); // parent is a file
      const fallback = path.join(tmp, 'cache', 'brown.txt');
      expect(await ensureBrownCorpus([blocked, fallback])).toBe(fallback);
      // No temporary files left; the record of its hash beside it.
      expect(readdirSync(path.dirname(fallback))).toEqual(['.brown.txt.verified', 'brown.txt']);
      expect(readFileSync(fallback, 'utf8')).toBe(readFileSync(await ensureBrownCorpus(), 'utf8'));
      expect(readFileSync(fallback, 'utf8')).toBe(await convertBrownCorpus());
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('refuses a cached text that is not the conversion, with or without its record', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'charnn-brown-'));
    try {
      const file = path.join(tmp, 'brown.txt');
      await ensureBrownCorpus([file]);
      const text = readFileSync(file, 'utf8');
      const damaged = text.replace('Fulton', 'Fulten');
      writeFileSync(file, damaged);
      const refused = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not brown's text: sha256 [0-9a-f]{64}, expected [0-9a-f]{64} \\(the one recorded when charnn prepared it\\); delete it and charnn converts the Brown Corpus again$`);
      await expect(ensureBrownCorpus([file])).rejects.toThrow(refused);
      // Without the record, a fresh conversion is the reference; the right text is then accepted and recorded.
      rmSync(path.join(tmp, '.brown.txt.verified'));
      await expect(ensureBrownCorpus([file])).rejects.toThrow(/\(a fresh conversion\)/);
      writeFileSync(file, text);
      expect(await ensureBrownCorpus([file])).toBe(file);
      expect(readdirSync(tmp)).toEqual(['.brown.txt.verified', 'brown.txt']);
      expect(readFileSync(file, 'utf8')).toBe(text);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
