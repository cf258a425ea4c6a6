// The slice of the WebAssembly JS API this engine uses, typed locally: the project compiles
// against lib ES2022 without DOM, which has no WebAssembly declarations.
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}
export type WasmModule = object;
export type WasmExports = Record<string, unknown>;

interface WasmApi {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Instance: new (m: WasmModule, imports: object) => { exports: WasmExports };
  compile(bytes: Uint8Array): Promise<WasmModule>;
  validate(bytes: Uint8Array): boolean;
}

export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export function instantiate(module: WasmModule, memory: WasmMemory): WasmExports {
  return new wasm.Instance(module, { env: { memory } }).exports;
}
