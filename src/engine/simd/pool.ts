// Runs commands on the main thread plus workers that share the engine's memory. Calls are
// synchronous: the main thread publishes the command, works on it itself, then waits.
//
// Two kinds of command, named in the low bits of the sequence word so a worker reads the kind
// with the sequence in one load:
// - JOIN (every op but the inference step): threads claim blocks from a counter
//   (assembly/kernel-layout.ts claim), so a command needs no particular thread. A worker joins by
//   raising STATE while it is not CLOSED, reads the command only once inside, and leaves by
//   lowering it; the main thread, after its own claims, waits for STATE to reach 0 and closes it.
//   A worker that wakes late, even several commands late, finds the command closed (the work
//   done without it) or joins whichever command is open then: never one whose block is being
//   rewritten, since the main thread writes the next command only while STATE is CLOSED. So the
//   main thread never waits for a worker that has not started, which on a busy machine can take
//   a scheduler time slice, and a short op never waits for a sleeping worker to wake.
// - EVERY (the inference step, whose threads meet at barriers): every worker runs it exactly
//   once and the main thread waits for all of them (PENDING), so the command stays current until
//   each worker has read it.
import { Worker } from 'node:worker_threads';
import {
  ARENA_START, ARGS, CLOSED, ERROR, EVERY, EXIT, JOIN, KIND_BITS, MAX_ARGS, NEXT, NT, OP, Op, PENDING, SEQ, STATE,
} from './shared-layout.js';
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
  private seq = 0;

  private constructor(readonly memory: WasmMemory, exports: WasmExports) {
    this.ctl = new Int32Array(memory.buffer, 0, ARENA_START / 4);
    this.args = new Float64Array(memory.buffer, ARGS, MAX_ARGS);
    this.exports = exports;
    this.run = exports.run as RunFn;
    Atomics.store(this.ctl, STATE, CLOSED);
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
    // No worker is inside a command now (STATE is CLOSED, PENDING is 0), so none reads these.
    ctl[OP] = op;
    ctl[NEXT] = 0;
    const nt = parallel ? this.workers.length + 1 : 1;
    if (nt === 1) {
      this.run(0, 1);
      return;
    }
    if (this.lost) throw new Error('simd engine: a worker thread has exited; create a new engine');
    ctl[NT] = nt;
    const every = op === Op.InferStep;
    if (every) Atomics.store(ctl, PENDING, nt - 1);
    else Atomics.store(ctl, STATE, 0);
    this.publish(every ? EVERY : JOIN);
    let err: unknown = null;
    try {
      this.run(0, nt);
    } catch (e) {
      err = e;
    }
    if (every) this.waitAll();
    else this.close();
    if (err) throw err;
    if (Atomics.exchange(ctl, ERROR, 0) !== 0) throw new Error(`simd engine: a worker failed in op ${op}`);
  }

  private publish(kind: number): void {
    this.seq = (this.seq + 1) & 0xfffffff;
    Atomics.store(this.ctl, SEQ, (this.seq << KIND_BITS) | kind);
    Atomics.notify(this.ctl, SEQ);
  }

  /** Waits for the workers inside the command to leave, then closes it to late ones. */
  private close(): void {
    const ctl = this.ctl;
    if (Atomics.compareExchange(ctl, STATE, 0, CLOSED) === 0) return;
    this.spin.until(() => Atomics.load(ctl, STATE) === 0);
    for (let v; (v = Atomics.compareExchange(ctl, STATE, 0, CLOSED)) !== 0;) Atomics.wait(ctl, STATE, v);
  }

  private waitAll(): void {
    const ctl = this.ctl;
    if (Atomics.load(ctl, PENDING) === 0 || this.spin.until(() => Atomics.load(ctl, PENDING) === 0)) return;
    for (let p; (p = Atomics.load(ctl, PENDING)) !== 0;) Atomics.wait(ctl, PENDING, p);
  }

  dispose(): void {
    if (this.workers.length === 0) return;
    for (const w of this.workers) w.removeAllListeners('exit');
    this.publish(EXIT);
    for (const w of this.workers) void w.terminate();
    this.workers = [];
  }
}
