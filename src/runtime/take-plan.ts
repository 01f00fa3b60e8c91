import type { Lease } from './leases/lease.js';

export interface TakeContext {
  readonly me: string;
  /** Lease keys this worker is processing now. */
  readonly held: ReadonlySet<string>;
  /** True when the lease's counter has not moved for a lease duration. */
  readonly expired: (l: Lease) => boolean;
  /** True when the source still lists the shard. */
  readonly listed: (source: string, shardId: string) => boolean;
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
 */
export function planTakes(leases: readonly Lease[], ctx: TakeContext): TakePlan {
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
  let mine = ctx.held.size;
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
