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
  private readonly lanes = new SerialLanes();
  private timer: Timer | undefined;

  constructor(
    private readonly table: LeaseTable,
    readonly owner: string,
    private readonly onLost: (leaseKey: string) => void,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly onHandoff: (leaseKey: string, to: string) => void = () => {},
  ) {}

  startRenewing(intervalMs: number): void {
    this.timer = this.clock.setInterval(() => void this.renewAll(), intervalMs);
    this.timer.unref();
  }

  stopRenewing(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  get count(): number {
    return this.held.size;
  }

  /** Takes `observed` if its counter has not moved since it was read. */
  async take(observed: Lease): Promise<Lease | undefined> {
    const l = await this.table.take(observed, this.owner);
    if (l) this.held.set(l.leaseKey, l);
    return l;
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
      await this.table.release(l);
    });
  }

  /** Forgets a lease without touching the table (it was lost, or the process is giving up). */
  drop(key: string): void {
    this.held.delete(key);
  }

  private mutate(key: string, fn: (l: Lease) => Promise<Lease | undefined>): Promise<Lease | undefined> {
    return this.lanes.run(key, async () => {
      const l = this.held.get(key);
      if (!l) return undefined;
      const next = await fn(l);
      if (next) {
        this.held.set(key, next);
        if (next.handoffTo && next.handoffTo !== this.owner && !l.handoffTo) this.onHandoff(key, next.handoffTo);
      } else {
        this.held.delete(key);
        this.log.warn('lease lost', { leaseKey: key });
        this.onLost(key);
      }
      return next;
    });
  }
}
