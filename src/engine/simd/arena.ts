// One shared WebAssembly.Memory for every tensor of an engine, bump-allocated: tensors are made
// up front and kept for the engine's life, so nothing is ever freed before dispose.
import { ARENA_START } from './layout.js';
import { type WasmMemory, wasm } from './wasm.js';

const PAGE = 65536;
const ALIGN = 64;

export class Arena {
  readonly memory: WasmMemory;
  private top = ARENA_START;

  constructor(maxPages: number) {
    this.memory = new wasm.Memory({ initial: 2, maximum: maxPages, shared: true });
  }

  /** Byte address of `bytes` fresh zero bytes (new pages are zero and nothing is reused). */
  alloc(bytes: number): number {
    const ptr = this.top;
    const end = ptr + Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      try {
        this.memory.grow(pages);
      } catch {
        throw new RangeError(`simd engine: out of memory allocating ${bytes} bytes (${(end / 2 ** 20).toFixed(0)} MiB in use)`);
      }
    }
    this.top = end;
    return ptr;
  }

  /** Fresh views: growth replaces the buffer object, so views are never cached. */
  f32(ptr: number, len: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, len);
  }
}
