// One shared WebAssembly.Memory for every tensor of an engine. A WebAssembly memory can grow but
// never shrink, so what a finished phase held (an estimate's workspace, a sampler's plan) must be
// handed back and reused, or a long run grows until the 4 GiB wasm32 limit: freed blocks go to a
// list of holes, coalesced with their neighbours, that later allocations take first (best fit).
// The pattern that matters repeats the same sizes (one estimate after another), so it reuses the
// very same blocks and memory stays flat.
import { ARENA_START } from './shared-layout.js';
import { type WasmMemory, wasm } from './wasm.js';

const PAGE = 65536;
const ALIGN = 64;

const rounded = (bytes: number): number => Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN;

interface Hole { ptr: number; bytes: number }

export class Arena {
  readonly memory: WasmMemory;
  private top = ARENA_START;
  /** The highest top so far: bytes above it were never handed out, so they are still zero. */
  private high = ARENA_START;
  /** Free blocks below `top`, by address, never adjacent (merged when freed). */
  private readonly holes: Hole[] = [];
  /** Bytes handed out and not freed (rounded up to the alignment). */
  private used = 0;

  constructor(maxPages: number) {
    this.memory = new wasm.Memory({ initial: 2, maximum: maxPages, shared: true });
  }

  /** Byte address of `bytes` zero bytes, 64-byte aligned. */
  alloc(bytes: number): number {
    const size = rounded(bytes);
    let best = -1;
    for (let i = 0; i < this.holes.length; i++) {
      const h = this.holes[i];
      if (h.bytes >= size && (best < 0 || h.bytes < this.holes[best].bytes)) best = i;
    }
    let ptr: number;
    if (best >= 0) {
      const h = this.holes[best];
      ptr = h.ptr;
      if (h.bytes === size) this.holes.splice(best, 1);
      else { h.ptr += size; h.bytes -= size; }
      new Uint8Array(this.memory.buffer, ptr, size).fill(0);
    } else {
      ptr = this.top;
      const end = ptr + size, have = this.memory.buffer.byteLength;
      if (end > have) {
        try {
          this.memory.grow(Math.ceil((end - have) / PAGE));
        } catch {
          throw new RangeError(`simd engine: out of memory allocating ${bytes} bytes (${(end / 2 ** 20).toFixed(0)} MiB in use)`);
        }
      }
      // Room a freed block gave back to the top is not fresh.
      if (ptr < this.high) new Uint8Array(this.memory.buffer, ptr, Math.min(end, this.high) - ptr).fill(0);
      this.top = end;
      this.high = Math.max(this.high, end);
    }
    this.used += size;
    return ptr;
  }

  /** Returns a block from alloc(bytes) (the same byte count); its bytes may be handed out again. */
  free(ptr: number, bytes: number): void {
    const size = rounded(bytes);
    this.used -= size;
    const hs = this.holes;
    let i = 0;
    while (i < hs.length && hs[i].ptr < ptr) i++;
    hs.splice(i, 0, { ptr, bytes: size });
    if (i + 1 < hs.length && ptr + size === hs[i + 1].ptr) {
      hs[i].bytes += hs[i + 1].bytes;
      hs.splice(i + 1, 1);
    }
    if (i > 0 && hs[i - 1].ptr + hs[i - 1].bytes === ptr) {
      hs[i - 1].bytes += hs[i].bytes;
      hs.splice(i, 1);
      i--;
    }
    // A hole that reaches the top is just room above it.
    if (i === hs.length - 1 && hs[i].ptr + hs[i].bytes === this.top) {
      this.top = hs[i].ptr;
      hs.pop();
    }
  }

  /** Bytes allocated and not freed, and bytes the memory has grown to (it never shrinks). */
  usage(): { used: number; reserved: number } {
    return { used: this.used, reserved: this.memory.buffer.byteLength };
  }

  /** Fresh views: growth replaces the buffer object, so views are never cached. */
  f32(ptr: number, len: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, len);
  }
}
