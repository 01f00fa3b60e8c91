import type { Clock, Timer } from '../../core/clock.js';
import type { Checkpoint } from '../../core/position.js';
import type { Logger } from '../../observe/log.js';
import { SerialLanes } from '../../core/serial-lanes.js';
import type { Lease } from './lease.js';
import type { LeaseTable } from './table.js';

/**
 * The leases this worker holds. Renews them on its own timer (never behind a blocked pipeline)
 * and serializes every mutation of one lease, since each bumps the fencing counter.
 */
export class LeaseKeeper {
  private readonly held = new Map<string, Lease>();
  /** Per held lease: until when (clock time) no other worker can have taken it (see {@link validity}). */
  private readonly validUntil = new Map<string, number>();
  private readonly lanes = new SerialLanes();
  private timer: Timer | undefined;

  constructor(
    private readonly table: LeaseTable,
    readonly owner: string,
    private readonly onLost: (leaseKey: string) => void,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly onHandoff: (leaseKey: string, to: string) => void = () => {},
    /** The lease duration other workers wait out before they take a lease; bounds {@link validity}. */
    private readonly leaseDurationMs = Infinity,
  ) {}

  /** When the renewal loop last ran (the runner's clock), whatever the outcome; undefined before it starts. */
  lastRenewalRoundAt: number | undefined;

  startRenewing(intervalMs: number): void {
    this.lastRenewalRoundAt = this.clock.now();
    this.timer = this.clock.setInterval(() => {
      this.lastRenewalRoundAt = this.clock.now();
      void this.renewAll();
    }, intervalMs);
    this.timer.unref();
  }

  stopRenewing(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.lastRenewalRoundAt = undefined;
  }

  get count(): number {
    return this.held.size;
  }

  /** Takes `observed` if its counter has not moved since it was read. */
  async take(observed: Lease): Promise<Lease | undefined> {
    const sent = this.clock.now();
    const l = await this.table.take(observed, this.owner);
    if (l) {
      this.held.set(l.leaseKey, l);
      this.validUntil.set(l.leaseKey, sent + VALID_SHARE * this.leaseDurationMs);
    }
    return l;
  }

  /**
   * Whether no other worker can have taken a lease: another worker takes a lease only once its
   * counter has stood still for the lease duration, counted from when it first saw that counter,
   * which is after this worker sent the write that set it. So the lease is safe until the send of
   * the last successful renewal (or take, or checkpoint) plus the lease duration, less a margin for
   * clock rates and timers. `'lapsed'`: held, but not renewed recently enough to be sure (slow
   * renewals, or a process paused by SIGSTOP or a long GC); `'lost'`: not held any more.
   */
  validity(key: string): 'valid' | 'lapsed' | 'lost' {
    if (!this.held.has(key)) return 'lost';
    return this.clock.now() < (this.validUntil.get(key) ?? -Infinity) ? 'valid' : 'lapsed';
  }

  /**
   * Resolves true once the lease is valid (renewing it now if it lapsed), false when it is lost.
   * Exactly-once pipelines call it before they write, so a worker paused past its lease's expiry
   * writes nothing on resuming: its renewal finds the lease taken first.
   */
  async whenValid(key: string, signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      const v = this.validity(key);
      if (v !== 'lapsed') return v === 'valid';
      if (signal?.aborted) return false;
      try {
        await this.mutate(key, (l) => this.table.renew(l));
      } catch (e) {
        this.log.warn('lease renewal failed', { leaseKey: key, error: e });
        await this.clock.sleep(100, signal);
      }
    }
  }

  private async renewAll(): Promise<void> {
    await Promise.all(
      [...this.held.keys()].map((k) =>
        this.mutate(k, (l) => this.table.renew(l)).catch((e: unknown) =>
          this.log.warn('lease renewal failed', { leaseKey: k, error: e }),
        ),
      ),
    );
  }

  /** Writes a checkpoint; false when the lease was lost (nothing written). */
  async checkpoint(key: string, cp: Checkpoint, extra?: { millisBehind?: number }): Promise<boolean> {
    return (await this.mutate(key, (l) => this.table.checkpoint(l, cp, extra))) !== undefined;
  }

  async release(key: string): Promise<void> {
    await this.lanes.run(key, async () => {
      const l = this.held.get(key);
      if (!l) return;
      this.held.delete(key);
      this.validUntil.delete(key);
      await this.table.release(l);
    });
  }

  /** Forgets a lease without touching the table (it was lost, or the process is giving up). */
  drop(key: string): void {
    this.held.delete(key);
    this.validUntil.delete(key);
  }

  private mutate(key: string, fn: (l: Lease) => Promise<Lease | undefined>): Promise<Lease | undefined> {
    return this.lanes.run(key, async () => {
      const l = this.held.get(key);
      if (!l) return undefined;
      const sent = this.clock.now();
      const next = await fn(l);
      if (next) {
        this.held.set(key, next);
        this.validUntil.set(key, sent + VALID_SHARE * this.leaseDurationMs);
        if (next.handoffTo && next.handoffTo !== this.owner && !l.handoffTo) this.onHandoff(key, next.handoffTo);
      } else {
        this.held.delete(key);
        this.validUntil.delete(key);
        this.log.warn('lease lost', { leaseKey: key });
        this.onLost(key);
      }
      return next;
    });
  }
}

/**
 * Share of the lease duration a lease counts as safe after the send of its last renewal: the rest
 * is margin for the other worker's round interval, timers firing late and clocks running at
 * slightly different rates.
 */
const VALID_SHARE = 0.8;
