// Flag values: each kind of setting (src/model/settings.ts) has one parser, and one table of
// flags gives a command its options, defaults and help.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { canonical, describeKind, fitsKind, type SettingKind } from '../model/settings.js';

/** What a command's flag table lists: a subset of a Setting's fields, so settings fit as they are. */
export interface FlagSpec {
  key: string;
  flag: string;
  arg?: string;
  kind: SettingKind;
  default?: number | string;
  help: string;
}

export function parserFor(kind: SettingKind): (v: string) => unknown {
  return (v: string) => {
    const value = kind.type === 'duration' ? duration(v)
      : kind.type === 'int' ? (/^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN)
      : kind.type === 'float' ? (v.trim() === '' ? NaN : Number(v))
      : canonical(kind, v);
    if (!fitsKind(kind, value)) throw new InvalidArgumentError(`expected ${describeKind(kind)}.`);
    return value;
  };
}

/** Adds every flag of `specs` to `cmd`, in order. */
export function addFlags(cmd: Command, specs: readonly FlagSpec[]): Command {
  for (const s of specs) {
    const o = new Option(s.arg ? `${s.flag} ${s.arg}` : s.flag, s.help);
    // A variadic flag (`<files...>`) collects its values itself; a parser would replace the list.
    if (s.kind.type !== 'switch' && !s.arg?.includes('...')) o.argParser(parserFor(s.kind));
    if (s.default !== undefined) o.default(s.default);
    cmd.addOption(o);
  }
  return cmd;
}

/** "90s", "10m", "1.5h", "2h30m" or plain seconds → seconds (NaN when it is none of those). */
export function duration(v: string): number {
  const s = v.trim().toLowerCase();
  let total = 0, matched = '';
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(h|m|s)?/g)) {
    total += Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
    matched += m[0];
  }
  return !s || matched !== s || !(total > 0) ? NaN : total;
}

/** The flag table entry for `key`, with another default or help where a command needs one. */
export function pick<T extends FlagSpec>(specs: readonly T[], key: string, change: Partial<FlagSpec> = {}): FlagSpec {
  const s = specs.find((x) => x.key === key);
  if (!s) throw new Error(`no flag ${key}`);
  return { ...s, ...change };
}
