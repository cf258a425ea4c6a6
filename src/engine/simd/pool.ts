// Runs commands on the main thread plus workers that share the engine's memory. Calls are
// synchronous: the main thread publishes the command, does share 0 itself, then waits.
import { Worker } from 'node:worker_threads';
import { ARENA_START, ARGS, ERROR, MAX_ARGS, NEXT, NT, OP, type Op, PENDING, SEQ } from './layout.js';
import { Spin, WORKER_SOURCE } from './worker-source.js';
import { type WasmExports, type WasmMemory, type WasmModule, instantiate } from './wasm.js';

type RunFn = (tid: number, nt: number) => void;

export class Pool {
  private readonly ctl: Int32Array;
  /** The next command's arguments: write them, then call exec. */
  readonly args: Float64Array;
  private readonly run: RunFn;
  /** The main thread's instance exports (also used for constants such as scratch sizes). */
  readonly exports: WasmExports;
  private workers: Worker[] = [];
  /** Set when a worker ended on its own: parallel commands would then wait forever. */
  private lost = false;
  private readonly spin = new Spin();

  private constructor(readonly memory: WasmMemory, exports: WasmExports) {
    this.ctl = new Int32Array(memory.buffer, 0, ARENA_START / 4);
    this.args = new Float64Array(memory.buffer, ARGS, MAX_ARGS);
    this.exports = exports;
    this.run = exports.run as RunFn;
  }

  /** A pool of `threads` threads in all: the caller's thread and threads − 1 workers. */
  static async create(module: WasmModule, memory: WasmMemory, threads: number): Promise<Pool> {
    const pool = new Pool(memory, instantiate(module, memory));
    const started = [];
    for (let tid = 1; tid < threads; tid++) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, tid } });
      pool.workers.push(w);
      started.push(new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`simd worker exited during start (code ${code})`)));
      }));
    }
    try {
      await Promise.all(started);
    } catch (e) {
      pool.dispose();
      throw e;
    }
    for (const w of pool.workers) {
      w.removeAllListeners('exit');
      w.removeAllListeners('error');
      w.on('error', () => {});
      w.on('exit', () => { pool.lost = true; });
      // Idle workers must never keep a process alive.
      w.unref();
    }
    return pool;
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  /** Runs `op` on all threads when `parallel` (and there are workers), else here alone. */
  exec(op: Op, parallel: boolean): void {
    const ctl = this.ctl;
    ctl[OP] = op;
    // Every worker has finished the previous command (waitWorkers), so none can claim from the
    // counter between this reset and the publication below.
    ctl[NEXT] = 0;
    const nt = parallel ? this.workers.length + 1 : 1;
    if (nt === 1) {
      this.run(0, 1);
      return;
    }
    if (this.lost) throw new Error('simd engine: a worker thread has exited; create a new engine');
    ctl[NT] = nt;
    Atomics.store(ctl, PENDING, nt - 1);
    Atomics.add(ctl, SEQ, 1);
    Atomics.notify(ctl, SEQ);
    let err: unknown = null;
    try {
      this.run(0, nt);
    } catch (e) {
      err = e;
    }
    this.waitWorkers();
    if (err) throw err;
    if (Atomics.exchange(ctl, ERROR, 0) !== 0) throw new Error(`simd engine: a worker failed in op ${op}`);
  }

  private waitWorkers(): void {
    const ctl = this.ctl;
    if (Atomics.load(ctl, PENDING) === 0 || this.spin.until(() => Atomics.load(ctl, PENDING) === 0)) return;
    for (let p; (p = Atomics.load(ctl, PENDING)) !== 0;) Atomics.wait(ctl, PENDING, p);
  }

  dispose(): void {
    if (this.workers.length === 0) return;
    for (const w of this.workers) w.removeAllListeners('exit');
    this.ctl[NT] = -1;
    Atomics.add(this.ctl, SEQ, 1);
    Atomics.notify(this.ctl, SEQ);
    for (const w of this.workers) void w.terminate();
    this.workers = [];
  }
}
