import type { Lease } from './leases/lease.js';

export interface TakeContext {
  readonly me: string;
  /** Lease keys this worker is processing now. */
  readonly held: ReadonlySet<string>;
  /** True when the lease's counter has not moved for a lease duration. */
  readonly expired: (l: Lease) => boolean;
  /** True when the source still lists the shard. */
  readonly listed: (source: string, shardId: string) => boolean;
  /**
   * True while this worker lost or handed over a lease less than a balancing period ago: it then
   * takes nothing and asks for nothing. Default false.
   */
  readonly settling?: boolean;
}

export interface TakePlan {
  /** Free or expired leases to take now. */
  readonly take: Lease[];
  /** A lease of the busiest worker to ask for: its owner drains, checkpoints and releases it. */
  readonly handoff?: Lease;
}

/**
 * Chooses leases to take this round. A shard is ready when each parent is finished (SHARD_END)
 * or gone (neither leased nor listed). Each worker aims at an even share of unfinished leases:
 * it takes free or expired ready leases up to its share, and if none is free, asks the busiest
 * worker holding more than its share to hand one over (one per round, as KCL steals one). A
 * hand-over rather than a steal: the owner checkpoints first, so balancing applies nothing twice.
 *
 * A worker that has just lost leases (`settling`) plans nothing: one resumed after a pause past
 * its lease expiry still counts what it held and sees the others through stale observations, and
 * one that just handed a lease over would count the receiver, still holding nothing, as no worker
 * at all. Taking back at once made the two workers toss leases to and fro; waiting one period lets
 * the table show who holds what first.
 *
 * @example
 * ```ts
 * const plan = planTakes(await leases.list(), { me: 'w1', held: new Set(), expired: () => false, listed: () => true });
 * for (const l of plan.take) await keeper.take(l);
 * ```
 */
export function planTakes(leases: readonly Lease[], ctx: TakeContext): TakePlan {
  if (ctx.settling) return { take: [] };
  const byKey = new Map(leases.map((l) => [l.leaseKey, l]));
  const finished = (source: string, shardId: string): boolean => {
    const p = byKey.get(`${source}#${shardId}`);
    return p ? p.checkpoint.kind === 'SHARD_END' : !ctx.listed(source, shardId);
  };
  const open = leases.filter((l) => l.checkpoint.kind !== 'SHARD_END');
  const ready = (l: Lease) => l.parentShardIds.every((p) => finished(l.source, p));
  const live = (l: Lease) => l.owner !== undefined && !ctx.expired(l);

  const owners = new Map<string, Lease[]>();
  for (const l of open) if (live(l) && l.owner !== ctx.me) owners.set(l.owner!, [...(owners.get(l.owner!) ?? []), l]);
  const workers = owners.size + 1;
  const target = Math.ceil(open.length / workers);
  // A lease its owner is handing to this worker counts as this worker's already: asking for another meanwhile
  // would take more than a share, which the other worker then asks back.
  let mine = ctx.held.size + open.filter((l) => live(l) && l.owner !== ctx.me && l.handoffTo === ctx.me).length;
  const takes: Lease[] = [];

  const available = open.filter((l) => !ctx.held.has(l.leaseKey) && (!live(l) || l.owner === ctx.me) && ready(l));
  // Random order, so workers starting together do not all race for the same leases.
  for (const l of shuffle(available)) {
    if (mine >= target) break;
    takes.push(l);
    mine++;
  }
  if (mine < target && takes.length === 0) {
    const busiest = [...owners.entries()].sort((a, b) => b[1].length - a[1].length)[0];
    if (busiest && busiest[1].length > target) {
      const victim = busiest[1].find((l) => ready(l) && l.handoffTo === undefined);
      if (victim) return { take: [], handoff: victim };
    }
  }
  return { take: takes };
}

function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}
