// Flag value parsers: each rejects nonsense with a message commander prints on one line.
import { InvalidArgumentError } from 'commander';

export function int(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\s*-?\d+\s*$/.test(v) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'}.`);
    }
    return n;
  };
}

export function float(min: number, max: number, { minExclusive = false } = {}) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (minExclusive && n === min)) {
      throw new InvalidArgumentError(`expected a number ${minExclusive ? 'above' : 'from'} ${min}${Number.isFinite(max) ? ` up to ${max}` : ''}.`);
    }
    return n;
  };
}

/** "90s", "10m", "1.5h", "2h30m" or plain seconds → seconds. */
export function duration(v: string): number {
  const s = v.trim().toLowerCase();
  let total = 0, matched = '';
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(h|m|s)?/g)) {
    total += Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
    matched += m[0];
  }
  if (!s || matched !== s || !(total > 0)) throw new InvalidArgumentError('expected a duration such as 90s, 10m or 1h.');
  return total;
}

export function choice<T extends string>(values: readonly T[]) {
  return (v: string): T => {
    if (!values.includes(v as T)) throw new InvalidArgumentError(`expected one of: ${values.join(', ')}.`);
    return v as T;
  };
}
