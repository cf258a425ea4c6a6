// Which build of the kernels this process runs: "relaxed" (f32x4.relaxed_madd, one fused rounding
// per product) where the runtime validates and runs relaxed SIMD, "plain" (a separate multiply and
// add) otherwise. Both give bit-identical results for any thread count; they differ from each other
// in the last bits, because a fused multiply-add rounds once.
import v8 from 'node:v8';
import { UserError } from '../../errors.js';
import { wasm } from './wasm.js';

export type KernelVariant = 'relaxed' | 'plain';
export const KERNEL_VARIANTS: readonly KernelVariant[] = ['relaxed', 'plain'];

// (func (export "m") (param f32 f32 f32) (result f32)
//   lane 0 of f32x4.relaxed_madd(splat a, splat b, splat c))
const PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7d, 0x7d, 0x7d, 0x01, 0x7d,
  0x03, 0x02, 0x01, 0x00,
  0x07, 0x05, 0x01, 0x01, 0x6d, 0x00, 0x00,
  0x0a, 0x16, 0x01, 0x14, 0x00,
  0x20, 0x00, 0xfd, 0x13, 0x20, 0x01, 0xfd, 0x13, 0x20, 0x02, 0xfd, 0x13,
  0xfd, 0x85, 0x02, 0xfd, 0x1f, 0x00, 0x0b,
]);

interface ProbeApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object) => { exports: { m: (a: number, b: number, c: number) => number } };
}

/** Runs the probe: true when relaxed_madd validates and computes a·b + c (fused or not). */
function probeRuns(): boolean {
  if (!wasm.validate(PROBE)) return false;
  const api = wasm as unknown as ProbeApi;
  const m = new api.Instance(new api.Module(PROBE)).exports.m;
  const a = Math.fround(1 + 2 ** -12), b = Math.fround(1 - 2 ** -12), c = -1;
  const fused = a * b + c, unfused = Math.fround(Math.fround(a * b) + c);
  const r = m(a, b, c);
  return m(2, 3, 4) === 10 && (r === Math.fround(fused) || r === unfused);
}

let detected: boolean | null = null;

/**
 * Whether relaxed SIMD runs here. Node 20's V8 (11.3) has it behind a flag, which is switched on
 * for this process when the probe does not validate without it; later Node versions ship it.
 */
export function relaxedSimdRuns(): boolean {
  if (detected !== null) return detected;
  detected = probeRuns();
  if (!detected && Number(process.versions.node.split('.')[0]) === 20) {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    detected = probeRuns();
  }
  return detected;
}

/**
 * The variant to load: CHARNN_SIMD_KERNELS=plain|relaxed forces one (tests run the suite on both),
 * otherwise relaxed where it runs.
 */
export function chooseVariant(env: NodeJS.ProcessEnv = process.env): KernelVariant {
  const forced = env.CHARNN_SIMD_KERNELS;
  if (forced !== undefined && forced !== '') {
    if (forced !== 'plain' && forced !== 'relaxed') {
      throw new UserError(`CHARNN_SIMD_KERNELS must be plain or relaxed, got ${JSON.stringify(forced)}`);
    }
    if (forced === 'relaxed' && !relaxedSimdRuns()) {
      throw new UserError(`CHARNN_SIMD_KERNELS=relaxed, but this Node.js (${process.version}) cannot run relaxed SIMD; unset it or use plain`);
    }
    return forced;
  }
  return relaxedSimdRuns() ? 'relaxed' : 'plain';
}
