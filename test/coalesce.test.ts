import { describe, expect, it } from 'vitest';
import { Coalescer } from '../src/cli/coalesce.js';

describe('Coalescer', () => {
  it('joins small writes into few, in order, and loses nothing', () => {
    const got: string[] = [];
    const c = new Coalescer((t) => got.push(t), 1000, 100);
    let all = '';
    for (let i = 0; i < 1000; i++) {
      const piece = String.fromCodePoint(0x61 + (i % 26), ...(i % 7 === 0 ? [0x1f600] : []));
      all += piece;
      c.write(piece);
    }
    c.flush();
    expect(got.join('')).toBe(all);
    expect(got.length).toBeLessThan(40);
    expect(got.slice(0, -1).every((t) => t.length >= 100)).toBe(true);
  });

  it('writes what waits once its time is up, without another write or a flush', async () => {
    const got: string[] = [];
    const c = new Coalescer((t) => got.push(t), 5, 1 << 20);
    c.write('ab');
    c.write('c');
    expect(got).toEqual([]);
    await new Promise((r) => setTimeout(r, 30));
    expect(got).toEqual(['abc']);
    c.flush();
    expect(got).toEqual(['abc']);
  });
});
