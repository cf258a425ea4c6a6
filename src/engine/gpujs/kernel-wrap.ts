// Rewrites of kernel sources (kernels.ts conventions) for device storage, where a gpu.js kernel
// always produces a whole fresh output: a kernel that writes part of a tensor becomes one that
// writes the whole tensor, computing its range and carrying every other value through. One launch
// where running the kernel and splicing its output in took two.
import type { KernelSource } from './kernels.js';

const C = 'this.constants.';

const intoRangeCache = new Map<string, KernelSource>();

/**
 * k rewritten to produce a whole destination tensor: the threads of [dstOff, dstOff + wrapLen)
 * compute k's value for thread x − dstOff, every other thread copies dst. One launch writes a
 * range of a device tensor, where running k and splicing its output in took two (gpu.js kernels
 * always produce a fresh whole output). k's source must end in its only `return`.
 */
export function intoRange(k: KernelSource): KernelSource {
  let w = intoRangeCache.get(k.name);
  if (w) return w;
  const m = /^function \(([^)]*)\) \{([\s\S]*)\}$/.exec(k.src.trim());
  const body = m?.[2] ?? '';
  const at = body.lastIndexOf('return ');
  if (!m || at < 0 || body.indexOf('return ') !== at || !/^return [^;]*;\s*$/.test(body.slice(at))) {
    throw new Error(`intoRange: kernel ${k.name} must end in its only return statement`);
  }
  const here = (s: string): string => s.replaceAll('this.thread.x', 'wrapT');
  const value = here(body.slice(at + 7).replace(/;\s*$/, ''));
  w = {
    name: `${k.name}@range`,
    src: `function (dst, dstOff${m[1].trim() ? `, ${m[1].trim()}` : ''}) {
  const wrapT = this.thread.x - dstOff;
  let wrapR = dst[this.thread.x];
  if (wrapT >= 0 && wrapT < ${C}wrapLen) {
${here(body.slice(0, at))}
    wrapR = ${value};
  }
  return wrapR;
}`,
  };
  intoRangeCache.set(k.name, w);
  return w;
}

const intoRange4Cache = new Map<string, KernelSource>();

/**
 * intoRange for a kernel whose thread returns four floats (`return [a, b, c, d];`, its only
 * return): thread x of the whole destination computes k's thread x − dstOff4 inside the range of
 * wrapLen threads, and carries dst's four floats through elsewhere.
 */
export function intoRange4(k: KernelSource): KernelSource {
  let w = intoRange4Cache.get(k.name);
  if (w) return w;
  const m = /^function \(([^)]*)\) \{([\s\S]*)\}$/.exec(k.src.trim());
  const body = m?.[2] ?? '';
  const at = body.lastIndexOf('return [');
  const ret = /^return \[([\s\S]*)\];\s*$/.exec(body.slice(at));
  const parts = ret ? topLevel(ret[1]) : [];
  if (!m || at < 0 || body.indexOf('return ') !== at || parts.length !== 4) {
    throw new Error(`intoRange4: kernel ${k.name} must end in its only return of four values`);
  }
  const here = (s: string): string => s.replaceAll('this.thread.x', 'wrapT');
  w = {
    name: `${k.name}@range4`,
    src: `function (dst, dstOff4${m[1].trim() ? `, ${m[1].trim()}` : ''}) {
  const wrapT = this.thread.x - dstOff4;
  const wrapO = 4 * this.thread.x;
  let w0 = dst[wrapO];
  let w1 = dst[wrapO + 1];
  let w2 = dst[wrapO + 2];
  let w3 = dst[wrapO + 3];
  if (wrapT >= 0 && wrapT < ${C}wrapLen) {
${here(body.slice(0, at))}
${parts.map((p, i) => `    w${i} = ${here(p)};`).join('\n')}
  }
  return [w0, w1, w2, w3];
}`,
  };
  intoRange4Cache.set(k.name, w);
  return w;
}

/** `a, b[i, j], c` → ['a', 'b[i, j]', 'c']: commas outside brackets and parentheses. */
function topLevel(list: string): string[] {
  const parts: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < list.length; i++) {
    const ch = list[i];
    if (ch === '[' || ch === '(') depth++;
    else if (ch === ']' || ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(list.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(list.slice(start).trim());
  return parts;
}
