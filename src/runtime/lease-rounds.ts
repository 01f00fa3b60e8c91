import type { Clock } from '../core/clock.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import type { LeaseKeeper } from './leases/keeper.js';
import type { Lease } from './leases/lease.js';
import type { LeaseTable } from './leases/table.js';
import type { SourceGroup } from './source-groups.js';
import { planTakes } from './take-plan.js';

export interface LeaseRoundsDeps {
  readonly leases: LeaseTable;
  readonly keeper: LeaseKeeper;
  readonly workerId: string;
  /**
   * A lease whose counter has not moved for this long is expired. Also the balancing period: after
   * losing or handing over a lease, this worker takes none for this long.
   */
  readonly leaseDurationMs: number;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly log: Logger;
}

/**
 * One worker's rounds of taking leases. A lease is expired when this worker has seen its counter
 * stand still for a lease duration, as KCL does: workers never compare their clocks, only what
 * each observed on its own.
 */
export class LeaseRounds {
  /** Per lease: the counter last read, and clock.now() when it was first read at that value. */
  private readonly observed = new Map<string, { counter: number; since: number }>();
  /** clock.now() when this worker last lost or handed over a lease. */
  private gaveUpAt = -Infinity;

  constructor(private readonly deps: LeaseRoundsDeps) {}

  /**
   * This worker no longer holds a lease it had (another worker took it, or it was handed over):
   * no lease is taken or asked for during the next balancing period (see {@link planTakes}).
   */
  gaveUp(): void {
    this.gaveUpAt = this.deps.clock.now();
  }

  /**
   * Reads the lease table and takes ready leases up to this worker's share, or asks the busiest
   * worker to hand one over (see {@link planTakes}). `held()` names the leases being processed
   * now, `start` runs each lease taken; the round ends early once `stopping()` is true.
   */
  async run(
    groups: ReadonlyMap<string, SourceGroup>,
    held: () => Iterable<string>,
    start: (lease: Lease) => void,
    stopping: () => boolean,
  ): Promise<void> {
    const { leases, keeper, workerId, leaseDurationMs, clock } = this.deps;
    const all = await leases.list();
    const now = clock.now();
    for (const l of all) {
      const o = this.observed.get(l.leaseKey);
      if (!o || o.counter !== l.counter) this.observed.set(l.leaseKey, { counter: l.counter, since: now });
    }
    const listed = new Map<string, Set<string>>();
    for (const g of groups.values()) listed.set(g.source.name, new Set(g.shards.map((s) => s.shardId)));
    const mine = all.filter((l) => groups.has(l.source));
    const plan = planTakes(mine, {
      me: workerId,
      held: new Set(held()),
      expired: (l) => now - (this.observed.get(l.leaseKey)?.since ?? now) > leaseDurationMs,
      listed: (source, shardId) => listed.get(source)?.has(shardId) ?? false,
      settling: now - this.gaveUpAt < leaseDurationMs,
    });
    this.deps.log.debug('lease round', {
      leases: mine.length,
      take: plan.take.map((l) => l.leaseKey),
      handoff: plan.handoff?.leaseKey,
      held: keeper.count,
    });
    for (const l of plan.take) {
      if (stopping()) return;
      const taken = await keeper.take(l);
      if (taken) start(taken);
    }
    if (plan.handoff && !stopping()) await leases.requestHandoff(plan.handoff, workerId);
    this.deps.metrics.set('tributary_leases_held', {}, keeper.count);
  }
}
