// Tensor handles: a tensor is a byte address in the engine's memory. The op layer
// (../op-layer.ts) checks every range before a kernel sees an address.
import type { Tensor } from '../engine-api.js';

export class SimdTensor implements Tensor {
  constructor(readonly size: number, readonly ptr: number) {}
}
