// Each training step's loss and gradient norm, without stalling a GPU. Where reads are cheap (the
// CPU engines) both are read at once, every step, as the loop always did. Where a read waits for
// every queued kernel (Engine.readsBlock), both stay on the device in a ring of per-step slots and
// come back in one read when the caller wants to show them (about once a second), when the ring
// fills, or at drain(). A read is started without being waited for, so the launches of the steps
// after it go on while the numbers travel; quiet steps read nothing. To keep the host from racing
// ahead of the device (its queue would grow, and time budgets would be measured on the host's
// clock), a step waits for the one before it to finish: a fence, not a download, and the device
// always has the current step to work on meanwhile.
import type { Engine, Tensor } from '../engine/engine-api.js';
import type { Workspace } from '../model/model.js';
import type { AdamW } from './optimizer.js';

export interface StepRecord {
  step: number;
  /** Mean loss of the step's batch, nats/char. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  lr: number;
}

/** Slots of the device ring: steps that may be recorded between two reads. */
const RING = 256;

export class StepStats {
  private readonly e: Engine;
  private readonly ring: Tensor | null;
  /** Steps recorded in the ring and not yet being read: [step, slot, lr]. */
  private pending: [number, number, number][] = [];
  private next = 0;
  private inflight: Promise<void> | null = null;
  private failure: unknown = null;
  private ready: StepRecord[] = [];
  /** Resolves when the previous step has run on the device. */
  private fence: Promise<void> | null = null;

  constructor(private readonly ws: Workspace, private readonly opt: AdamW) {
    this.e = ws.w.e;
    this.ring = this.e.readsBlock && opt.deferrable ? this.e.tensor(2 * RING) : null;
  }

  dispose(): void {
    if (this.ring) this.e.free(this.ring);
  }

  /** Records the step after forward, loss and backward: the optimizer update, its loss and norm. */
  async update(step: number, lr: number): Promise<void> {
    this.rethrow();
    if (!this.ring) {
      const gradNorm = await this.opt.step(step, lr);
      const loss = (await this.ws.lossSum()) / (this.ws.batch * this.ws.seq);
      this.ready.push({ step, loss, gradNorm, lr });
      return;
    }
    if (this.pending.length >= RING) await this.settle();
    const slot = this.next;
    this.next = (this.next + 1) % RING;
    this.opt.update(step, lr, this.ring, 2 * slot + 1);
    this.ws.lossSumInto(this.ring, 2 * slot);
    this.pending.push([step, slot, lr]);
    const previous = this.fence;
    this.fence = this.e.sync();
    this.fence.catch(() => undefined);
    await previous;
  }

  /**
   * The records that have arrived, oldest first. With `want`, a read of the steps recorded since
   * the last one starts (unless one is on its way); they arrive for a later take().
   */
  take(want: boolean): StepRecord[] {
    this.rethrow();
    if (want && !this.inflight && this.pending.length) this.startRead();
    const out = this.ready;
    this.ready = [];
    return out;
  }

  /** Every record up to the last update, waiting for the device. */
  async drain(): Promise<StepRecord[]> {
    await this.settle();
    return this.take(false);
  }

  private async settle(): Promise<void> {
    if (this.inflight) await this.inflight;
    if (this.pending.length) {
      this.startRead();
      await this.inflight;
    }
    this.rethrow();
  }

  private startRead(): void {
    const taken = this.pending, n = this.ws.batch * this.ws.seq;
    this.pending = [];
    this.inflight = this.e.read(this.ring!).then(
      (v) => {
        for (const [step, slot, lr] of taken) this.ready.push({ step, lr, loss: v[2 * slot] / n, gradNorm: Math.sqrt(v[2 * slot + 1]) });
      },
      (err: unknown) => {
        this.failure ??= err;
      },
    ).finally(() => {
      this.inflight = null;
    });
  }

  private rethrow(): void {
    if (this.failure !== null) throw this.failure;
  }
}
