// The one op layer every engine sits behind: it checks each operand once, for every backend, and
// hands the backend arguments it can trust (every offset filled in, every range inside its
// tensor, every id a row index), so no backend repeats the checks and the WebAssembly kernels can
// index memory without guarding it. Like tfjs's kernel registry, the checks live in front of the
// dispatch, not in each kernel.
//
// Adding an op: its arguments type and method in engine-api.ts, its checks here, the js reference
// (js/js-engine.ts), the gpu.js kernels (gpujs/), the simd command (simd/op-table.ts, a case in
// simd/assembly/index.ts, the kernel, a wrapper in simd/ops-*.ts and its method in simd/simd-engine.ts),
// and its cases in test/conformance.
import type {
  AdamWArgs, BinaryArgs, EngineMemory, RecurrentBackwardArgs, RecurrentCell, RecurrentForwardArgs, RecurrentSizes, BroadcastRowArgs, CopyArgs, EmbeddingArgs, EmbeddingBackwardArgs, Engine, GeluBackwardArgs, GeluForwardArgs,
  GruBackwardArgs, GruForwardArgs, InferModel, InferPlan, LstmBackwardArgs, LstmForwardArgs, MatmulArgs, MinScanBackwardArgs,
  MinScanForwardArgs, RmsNormArgs, RmsNormBackwardArgs, SoftmaxXentArgs, SumRowsArgs, SumSquaresArgs, TanhBackwardArgs, Tensor,
  UnaryArgs, ZeroArgs,
} from './engine-api.js';
import { Check } from './operand-check.js';
import { checkIds, checkInferModel, checkLogitsOut, checkState } from './infer-plan-check.js';
import { composedBackward, composedForward, composedSizes } from './recurrent-composed.js';

/** The ops that take one arguments object. */
export type OpName =
  | 'zero' | 'copy' | 'broadcastRow' | 'sumRows' | 'matmul' | 'embedding' | 'embeddingBackward' | 'lstmForward' | 'lstmBackward'
  | 'softmaxXent' | 'mul' | 'add' | 'tanhForward' | 'tanhBackward' | 'geluForward' | 'geluBackward' | 'gruForward' | 'gruBackward'
  | 'minScanForward' | 'minScanBackward' | 'rmsNormForward' | 'rmsNormBackward' | 'sumSquares' | 'adamw';

type FilledKeys<A> = { [K in keyof A]-?: K extends `${string}Off` | 'len' ? K : never }[keyof A];
/** An op's arguments as a backend receives them: checked, with every offset (and zero's len) filled in. */
export type Checked<A> = Omit<A, FilledKeys<A>> & { [K in FilledKeys<A>]-?: number };

type OpArgs<K extends OpName> = Parameters<Engine[K]>[0];
type RecurrentOp = 'recurrentSizes' | 'recurrentForward' | 'recurrentBackward';

/**
 * What a backend implements. Its ops receive checked arguments and check nothing themselves; read
 * and write receive filled-in, in-range offsets and lengths.
 */
export type Backend = Omit<Engine, OpName | 'read' | 'write' | 'inferPrepare' | 'memory' | 'readsBlock' | RecurrentOp> & { [K in OpName]: (args: Checked<OpArgs<K>>) => void } & {
  /** Engine.readsBlock; false when absent. */
  readonly readsBlock?: boolean;
  /**
   * A backend's own recurrence (one kernel per timestep, say), where it has one: each returns false
   * for a call it leaves to the composition of its per-step ops (recurrent-composed.ts), and
   * recurrentSizes then covers both.
   */
  recurrentSizes?(cell: RecurrentCell, steps: number, batch: number, hidden: number): RecurrentSizes;
  recurrentForward?(args: Checked<RecurrentForwardArgs>): boolean;
  recurrentBackward?(args: Checked<RecurrentBackwardArgs>): boolean;
  /** Bytes reserved for everything the backend holds, where it manages its memory itself (EngineMemory.reserved). */
  reserved?(): number;
  /** `engine` is the checked engine in front of this backend, for plans composed from its ops. */
  inferPrepare(model: InferModel, streams: number, engine: Engine): InferPlan;
  write(t: Tensor, data: Float32Array, off: number): void;
  read(t: Tensor, off: number, len: number): Promise<Float32Array>;
  /**
   * A view of t[off, off+len) where one costs nothing (host memory), so that id operands can be
   * checked; a backend with device memory leaves it out and its ids go unchecked (its kernels
   * cannot read outside a texture or buffer). A backend whose kernels index memory with ids
   * must provide it.
   */
  hostView?(t: Tensor, off: number, len: number): Float32Array;
};

/** The engine model code calls: `backend` behind the checks. */
export function checkedEngine(backend: Backend): Engine {
  return new CheckedEngine(backend);
}

class CheckedEngine implements Engine {
  private readonly owned = new WeakSet<Tensor>();
  /** Freed tensors, only for the message when one is used again. */
  private readonly freed = new WeakSet<Tensor>();
  private readonly plans = new WeakSet<InferPlan>();
  private disposed = false;
  private tensorBytes = 0;

  constructor(private readonly b: Backend) {}

  get name(): string { return this.b.name; }
  get variant(): string | undefined { return this.b.variant; }
  get readsBlock(): boolean { return this.b.readsBlock ?? false; }

  tensor(size: number): Tensor {
    this.check('tensor').count('size', size);
    const t = this.b.tensor(size);
    this.owned.add(t);
    this.tensorBytes += size * 4;
    return t;
  }

  free(t: Tensor): void {
    this.check('free').tensor('tensor', t);
    this.owned.delete(t);
    this.freed.add(t);
    this.tensorBytes -= t.size * 4;
    this.b.free(t);
  }

  memory(): EngineMemory {
    return { tensors: this.tensorBytes, reserved: this.b.reserved?.() ?? null };
  }

  write(t: Tensor, data: Float32Array, off?: number): void {
    const o = this.check('write').in('target', t, off, data.length);
    this.b.write(t, data, o);
  }

  async read(t: Tensor, off?: number, len?: number): Promise<Float32Array> {
    const c = this.check('read');
    c.tensor('source', t);
    const o = off ?? 0;
    const n = c.count('len', len ?? Math.max(0, t.size - o));
    return this.b.read(t, c.in('source', t, o, n), n);
  }

  sync(): Promise<void> { return this.b.sync(); }

  dispose(): void {
    this.disposed = true;
    this.b.dispose();
  }

  zero(a: ZeroArgs): void {
    const c = this.check('zero');
    c.tensor('out', a.out);
    const len = c.count('len', a.len ?? Math.max(0, a.out.size - (a.outOff ?? 0)));
    const outOff = c.out('out', a.out, a.outOff, len);
    c.done();
    this.b.zero({ ...a, outOff, len });
  }

  copy(a: CopyArgs): void {
    const c = this.check('copy'), len = c.count('len', a.len);
    const srcOff = c.in('src', a.src, a.srcOff, len), dstOff = c.out('dst', a.dst, a.dstOff, len);
    c.done();
    this.b.copy({ ...a, srcOff, dstOff });
  }

  broadcastRow(a: BroadcastRowArgs): void {
    const c = this.check('broadcastRow'), rows = c.count('rows', a.rows), cols = c.count('cols', a.cols);
    const rowOff = c.in('row', a.row, a.rowOff, cols), outOff = c.out('out', a.out, a.outOff, rows * cols);
    c.done();
    this.b.broadcastRow({ ...a, rowOff, outOff });
  }

  sumRows(a: SumRowsArgs): void {
    const c = this.check('sumRows'), rows = c.count('rows', a.rows), cols = c.count('cols', a.cols);
    const xOff = c.in('x', a.x, a.xOff, rows * cols), outOff = c.out('out', a.out, a.outOff, cols);
    c.done();
    this.b.sumRows({ ...a, xOff, outOff });
  }

  matmul(a: MatmulArgs): void {
    const c = this.check('matmul'), m = c.count('m', a.m), n = c.count('n', a.n), k = c.count('k', a.k);
    const aOff = c.in('A', a.a, a.aOff, m * k), bOff = c.in('B', a.b, a.bOff, k * n), cOff = c.out('C', a.c, a.cOff, m * n);
    const biasOff = a.bias ? c.in('bias', a.bias, a.biasOff, n) : 0;
    c.done();
    this.b.matmul({ ...a, aOff, bOff, cOff, biasOff });
  }

  embedding(a: EmbeddingArgs): void {
    const c = this.check('embedding'), n = c.count('n', a.n), dim = c.count('dim', a.dim);
    c.tensor('table', a.table);
    const tableOff = a.tableOff ?? 0;
    // The rows read are known only from the ids: the table operand is everything from tableOff on.
    const rows = dim > 0 ? Math.floor((a.table.size - tableOff) / dim) : 0;
    c.in('table', a.table, tableOff, Math.max(0, a.table.size - tableOff));
    const idsOff = c.in('ids', a.ids, a.idsOff, n), outOff = c.out('out', a.out, a.outOff, n * dim);
    c.done();
    if (dim > 0) c.ids('ids', this.b.hostView?.(a.ids, idsOff, n), rows);
    this.b.embedding({ ...a, tableOff, idsOff, outOff });
  }

  embeddingBackward(a: EmbeddingBackwardArgs): void {
    const c = this.check('embeddingBackward'), n = c.count('n', a.n), dim = c.count('dim', a.dim), vocab = c.count('vocab', a.vocab);
    const dOutOff = c.in('dOut', a.dOut, a.dOutOff, n * dim), idsOff = c.in('ids', a.ids, a.idsOff, n);
    const dTableOff = c.out('dTable', a.dTable, a.dTableOff, vocab * dim);
    c.done();
    c.ids('ids', this.b.hostView?.(a.ids, idsOff, n), vocab);
    this.b.embeddingBackward({ ...a, dOutOff, idsOff, dTableOff });
  }

  lstmForward(a: LstmForwardArgs): void {
    const c = this.check('lstmForward'), bh = c.count('batch', a.batch) * c.count('hidden', a.hidden);
    const preOff = c.in('pre', a.pre, a.preOff, 4 * bh), cPrevOff = c.in('cPrev', a.cPrev, a.cPrevOff, bh);
    const actOff = c.out('act', a.act, a.actOff, 4 * bh), cOff = c.out('c', a.c, a.cOff, bh), hOff = c.out('h', a.h, a.hOff, bh);
    c.done();
    this.b.lstmForward({ ...a, preOff, cPrevOff, actOff, cOff, hOff });
  }

  lstmBackward(a: LstmBackwardArgs): void {
    const c = this.check('lstmBackward'), bh = c.count('batch', a.batch) * c.count('hidden', a.hidden);
    const actOff = c.in('act', a.act, a.actOff, 4 * bh), cPrevOff = c.in('cPrev', a.cPrev, a.cPrevOff, bh);
    const cOff = c.in('c', a.c, a.cOff, bh), dhOff = c.in('dh', a.dh, a.dhOff, bh), dcNextOff = c.in('dcNext', a.dcNext, a.dcNextOff, bh);
    const dPreOff = c.out('dPre', a.dPre, a.dPreOff, 4 * bh), dcPrevOff = c.out('dcPrev', a.dcPrev, a.dcPrevOff, bh);
    c.done();
    this.b.lstmBackward({ ...a, actOff, cPrevOff, cOff, dhOff, dcNextOff, dPreOff, dcPrevOff });
  }

  gruForward(a: GruForwardArgs): void {
    const c = this.check('gruForward'), bh = c.count('batch', a.batch) * c.count('hidden', a.hidden);
    const gxOff = c.in('gx', a.gx, a.gxOff, 3 * bh), ghOff = c.in('gh', a.gh, a.ghOff, 3 * bh);
    const hPrevOff = c.in('hPrev', a.hPrev, a.hPrevOff, bh);
    const actOff = c.out('act', a.act, a.actOff, 3 * bh), hOff = c.out('h', a.h, a.hOff, bh);
    c.done();
    this.b.gruForward({ ...a, gxOff, ghOff, hPrevOff, actOff, hOff });
  }

  gruBackward(a: GruBackwardArgs): void {
    const c = this.check('gruBackward'), bh = c.count('batch', a.batch) * c.count('hidden', a.hidden);
    const actOff = c.in('act', a.act, a.actOff, 3 * bh), ghOff = c.in('gh', a.gh, a.ghOff, 3 * bh);
    const hPrevOff = c.in('hPrev', a.hPrev, a.hPrevOff, bh), dhOff = c.in('dh', a.dh, a.dhOff, bh);
    const dGxOff = c.out('dGx', a.dGx, a.dGxOff, 3 * bh), dGhOff = c.out('dGh', a.dGh, a.dGhOff, 3 * bh);
    const dhPrevOff = c.out('dhPrev', a.dhPrev, a.dhPrevOff, bh);
    c.done();
    this.b.gruBackward({ ...a, actOff, ghOff, hPrevOff, dhOff, dGxOff, dGhOff, dhPrevOff });
  }

  minScanForward(a: MinScanForwardArgs): void {
    const c = this.check('minScanForward'), w = scanWidth(a.cell);
    const steps = c.count('steps', a.steps), bh = c.count('batch', a.batch) * c.count('hidden', a.hidden);
    const projOff = c.in('proj', a.proj, a.projOff, steps * w * bh);
    // h is read (slot 0) and written (slots 1..steps): one operand, an output.
    const actOff = c.out('act', a.act, a.actOff, steps * w * bh), hOff = c.out('h', a.h, a.hOff, (steps + 1) * bh);
    if (!a.residual !== !a.sum) throw new TypeError('minScanForward: residual and sum go together');
    const residualOff = a.residual ? c.in('residual', a.residual, a.residualOff, steps * bh) : 0;
    const sumOff = a.sum ? c.out('sum', a.sum, a.sumOff, steps * bh, ['residual']) : 0;
    c.done();
    this.b.minScanForward({ ...a, projOff, actOff, hOff, residualOff, sumOff });
  }

  minScanBackward(a: MinScanBackwardArgs): void {
    const c = this.check('minScanBackward'), w = scanWidth(a.cell);
    const steps = c.count('steps', a.steps), bh = c.count('batch', a.batch) * c.count('hidden', a.hidden);
    const projOff = c.in('proj', a.proj, a.projOff, steps * w * bh), actOff = c.in('act', a.act, a.actOff, steps * w * bh);
    const hOff = c.in('h', a.h, a.hOff, (steps + 1) * bh), dhOff = c.in('dh', a.dh, a.dhOff, steps * bh);
    const dProjOff = c.out('dProj', a.dProj, a.dProjOff, steps * w * bh);
    c.done();
    this.b.minScanBackward({ ...a, projOff, actOff, hOff, dhOff, dProjOff });
  }

  rmsNormForward(a: RmsNormArgs): void {
    const c = this.check('rmsNormForward'), rows = c.count('rows', a.rows), cols = c.count('cols', a.cols);
    const xOff = c.in('x', a.x, a.xOff, rows * cols), wOff = c.in('w', a.w, a.wOff, cols);
    const outOff = c.out('out', a.out, a.outOff, rows * cols), rstdOff = c.out('rstd', a.rstd, a.rstdOff, rows);
    c.done();
    this.b.rmsNormForward({ ...a, xOff, wOff, outOff, rstdOff });
  }

  rmsNormBackward(a: RmsNormBackwardArgs): void {
    const c = this.check('rmsNormBackward'), rows = c.count('rows', a.rows), cols = c.count('cols', a.cols);
    const xOff = c.in('x', a.x, a.xOff, rows * cols), wOff = c.in('w', a.w, a.wOff, cols);
    const rstdOff = c.in('rstd', a.rstd, a.rstdOff, rows), dOutOff = c.in('dOut', a.dOut, a.dOutOff, rows * cols);
    const residualOff = a.residual ? c.in('residual', a.residual, a.residualOff, rows * cols) : 0;
    const dxOff = c.out('dx', a.dx, a.dxOff, rows * cols, ['residual']), dwOff = c.out('dw', a.dw, a.dwOff, cols);
    c.done();
    this.b.rmsNormBackward({ ...a, xOff, wOff, rstdOff, dOutOff, residualOff, dxOff, dwOff });
  }

  softmaxXent(a: SoftmaxXentArgs): void {
    const c = this.check('softmaxXent'), rows = c.count('rows', a.rows), vocab = c.count('vocab', a.vocab);
    if (vocab === 0 && rows > 0) throw new RangeError('softmaxXent: vocab must be positive');
    const logitsOff = c.in('logits', a.logits, a.logitsOff, rows * vocab), targetsOff = c.in('targets', a.targets, a.targetsOff, rows);
    const lossesOff = c.out('losses', a.losses, a.lossesOff, rows);
    const dLogitsOff = a.dLogits ? c.out('dLogits', a.dLogits, a.dLogitsOff, rows * vocab) : 0;
    c.done();
    c.ids('targets', this.b.hostView?.(a.targets, targetsOff, rows), vocab);
    this.b.softmaxXent({ ...a, logitsOff, targetsOff, lossesOff, dLogitsOff });
  }

  mul(a: BinaryArgs): void { this.binary('mul', a); }
  add(a: BinaryArgs): void { this.binary('add', a); }
  tanhForward(a: UnaryArgs): void { this.unary('tanhForward', a); }

  geluForward(a: GeluForwardArgs): void {
    const c = this.check('geluForward'), len = c.count('len', a.len);
    const xOff = c.in('x', a.x, a.xOff, len), outOff = c.out('out', a.out, a.outOff, len);
    const eOff = a.e ? c.out('e', a.e, a.eOff, len) : 0;
    c.done();
    this.b.geluForward({ ...a, xOff, outOff, eOff });
  }

  tanhBackward(a: TanhBackwardArgs): void {
    const c = this.check('tanhBackward'), len = c.count('len', a.len);
    const yOff = c.in('y', a.y, a.yOff, len), dyOff = c.in('dy', a.dy, a.dyOff, len), dxOff = c.out('dx', a.dx, a.dxOff, len, ['dy']);
    c.done();
    this.b.tanhBackward({ ...a, yOff, dyOff, dxOff });
  }

  geluBackward(a: GeluBackwardArgs): void {
    const c = this.check('geluBackward'), len = c.count('len', a.len);
    const xOff = c.in('x', a.x, a.xOff, len), dyOff = c.in('dy', a.dy, a.dyOff, len), dxOff = c.out('dx', a.dx, a.dxOff, len, ['dy']);
    const eOff = a.e ? c.in('e', a.e, a.eOff, len) : 0;
    c.done();
    this.b.geluBackward({ ...a, xOff, dyOff, dxOff, eOff });
  }

  sumSquares(a: SumSquaresArgs): void {
    const c = this.check('sumSquares'), len = c.count('len', a.len);
    const xOff = c.in('x', a.x, a.xOff, len), outOff = c.out('out', a.out, a.outOff, 1);
    c.done();
    this.b.sumSquares({ ...a, xOff, outOff });
  }

  adamw(a: AdamWArgs): void {
    const c = this.check('adamw'), len = c.count('len', a.len);
    c.in('grad', a.grad, a.off, len);
    if (a.decay) c.in('decay', a.decay, a.off, len);
    const normSqOff = a.normSq ? c.in('normSq', a.normSq, a.normSqOff, 1) : 0;
    c.out('param', a.param, a.off, len); c.out('m', a.m, a.off, len); c.out('v', a.v, a.off, len);
    c.done();
    if (a.normSq && !(a.clip !== undefined && Number.isFinite(a.clip) && a.clip >= 0)) throw new RangeError('adamw: normSq needs clip ≥ 0');
    const view = this.b.hostView;
    if (!view || (!a.normSq && !a.decay)) return this.b.adamw({ ...a, normSqOff });
    // Host memory: the device-side arguments become the plain call the optimizer made before they
    // existed (the norm read here, one call per run of equal decay), so the results are its bits.
    let gradScale = a.gradScale;
    if (a.normSq) {
      const norm = Math.sqrt(view.call(this.b, a.normSq, normSqOff, 1)[0]);
      if (!Number.isFinite(norm)) return;
      gradScale = a.clip! > 0 && norm > a.clip! ? a.clip! / norm : 1;
    }
    const plain = { ...a, gradScale, normSq: undefined, decay: undefined, normSqOff: 0 };
    if (!a.decay) return this.b.adamw(plain);
    const mask = view.call(this.b, a.decay, a.off, len);
    for (let i = 0; i < len;) {
      let j = i + 1;
      while (j < len && mask[j] === mask[i]) j++;
      this.b.adamw({ ...plain, off: a.off + i, len: j - i, weightDecay: mask[i] * a.weightDecay });
      i = j;
    }
  }

  recurrentSizes(cell: RecurrentCell, steps: number, batch: number, hidden: number): RecurrentSizes {
    const c = this.check('recurrentSizes');
    recurrentGates(cell);
    c.count('steps', steps); c.count('batch', batch); c.count('hidden', hidden);
    return this.b.recurrentSizes?.(cell, steps, batch, hidden) ?? composedSizes(cell, steps, batch, hidden);
  }

  recurrentForward(a: RecurrentForwardArgs): void {
    const c = this.check('recurrentForward'), g = recurrentGates(a.cell);
    const T = c.count('steps', a.steps), bh = c.count('batch', a.batch) * c.count('hidden', a.hidden), n = T * bh;
    const sizes = this.recurrentSizes(a.cell, T, a.batch, a.hidden);
    const wOff = c.in('w', a.w, a.wOff, g * a.hidden * a.hidden);
    this.only(a.cell, 'gru', 'bias', a.bias);
    const biasOff = a.bias ? c.in('bias', a.bias, a.biasOff, g * a.hidden) : 0;
    this.only(a.cell, 'lstm', 'c', a.c);
    // x is an output too: engines may add the recurrent product into it.
    const xOff = c.out('x', a.x, a.xOff, g * n), hOff = c.out('h', a.h, a.hOff, n + bh);
    const cOff = a.c ? c.out('c', a.c, a.cOff, n + bh) : 0, savedOff = c.out('saved', a.saved, a.savedOff, sizes.saved);
    c.done();
    const checked = { ...a, xOff, wOff, biasOff, hOff, cOff, savedOff };
    if (!this.b.recurrentForward?.(checked)) composedForward(this, checked);
  }

  recurrentBackward(a: RecurrentBackwardArgs): void {
    const c = this.check('recurrentBackward'), g = recurrentGates(a.cell);
    const T = c.count('steps', a.steps), bh = c.count('batch', a.batch) * c.count('hidden', a.hidden), n = T * bh;
    const sizes = this.recurrentSizes(a.cell, T, a.batch, a.hidden);
    const wOff = c.in('w', a.w, a.wOff, g * a.hidden * a.hidden), hOff = c.in('h', a.h, a.hOff, n + bh), xOff = c.in('x', a.x, a.xOff, g * n);
    this.only(a.cell, 'lstm', 'c', a.c);
    this.only(a.cell, 'gru', 'dRec', a.dRec);
    const cOff = a.c ? c.in('c', a.c, a.cOff, n + bh) : 0, savedOff = c.in('saved', a.saved, a.savedOff, sizes.saved);
    const dhOff = c.out('dh', a.dh, a.dhOff, n), dxOff = c.out('dx', a.dx, a.dxOff, g * n);
    const dRecOff = a.dRec ? c.out('dRec', a.dRec, a.dRecOff, g * n) : 0, scratchOff = c.out('scratch', a.scratch, a.scratchOff, sizes.scratch);
    c.done();
    const checked = { ...a, wOff, xOff, hOff, cOff, savedOff, dhOff, dxOff, dRecOff, scratchOff };
    if (!this.b.recurrentBackward?.(checked)) composedBackward(this, checked);
  }

  /** An operand only `cell` has, required there and refused elsewhere. */
  private only(cell: RecurrentCell, owner: RecurrentCell, name: string, t: Tensor | undefined): void {
    if ((cell === owner) !== !!t) throw new TypeError(`${cell}: ${name} is ${cell === owner ? 'required' : `only for ${owner}`}`);
  }

  inferPrepare(model: InferModel, streams: number): InferPlan {
    this.check('inferPrepare').tensor('params', model.params);
    checkInferModel(model, streams);
    const plan = this.b.inferPrepare(model, streams, this);
    this.plans.add(plan);
    return plan;
  }

  inferStep(plan: InferPlan, ids: ArrayLike<number>, logits: boolean): void {
    this.plan('inferStep', plan);
    checkIds(plan, ids);
    this.b.inferStep(plan, ids, logits);
  }

  inferLogits(plan: InferPlan, out: Float32Array): Promise<void> {
    this.plan('inferLogits', plan);
    checkLogitsOut(plan, out);
    return this.b.inferLogits(plan, out);
  }

  inferReset(plan: InferPlan): void { this.b.inferReset(this.plan('inferReset', plan)); }

  inferRelease(plan: InferPlan): void {
    this.b.inferRelease(this.plan('inferRelease', plan));
    this.plans.delete(plan);
  }
  inferReadState(plan: InferPlan): Promise<Float32Array> { return this.b.inferReadState(this.plan('inferReadState', plan)); }

  inferWriteState(plan: InferPlan, state: Float32Array): void {
    this.plan('inferWriteState', plan);
    checkState(plan, state);
    this.b.inferWriteState(plan, state);
  }

  private binary(op: 'mul' | 'add', a: BinaryArgs): void {
    const c = this.check(op), len = c.count('len', a.len);
    const aOff = c.in('a', a.a, a.aOff, len), bOff = c.in('b', a.b, a.bOff, len), outOff = c.out('out', a.out, a.outOff, len, ['a', 'b']);
    c.done();
    this.b[op]({ ...a, aOff, bOff, outOff });
  }

  private unary(op: 'tanhForward', a: UnaryArgs): void {
    const c = this.check(op), len = c.count('len', a.len);
    const xOff = c.in('x', a.x, a.xOff, len), outOff = c.out('out', a.out, a.outOff, len);
    c.done();
    this.b[op]({ ...a, xOff, outOff });
  }

  private plan(op: string, p: InferPlan): InferPlan {
    this.check(op);
    if (!this.plans.has(p)) throw new TypeError(`${op}: not an inference plan of this engine`);
    return p;
  }

  private check(op: string): Check {
    if (this.disposed) throw new Error(`${this.b.name} engine: ${op} used after dispose()`);
    return new Check(op, this.owned, this.freed);
  }
}

function recurrentGates(cell: string): number {
  if (cell === 'lstm') return 4;
  if (cell === 'gru') return 3;
  if (cell === 'rnn') return 1;
  throw new RangeError(`recurrent: cell must be lstm, gru or rnn, got ${cell}`);
}

function scanWidth(cell: string): number {
  if (cell === 'mingru') return 2;
  if (cell === 'minlstm') return 3;
  throw new RangeError(`minScan: cell must be mingru or minlstm, got ${cell}`);
}
