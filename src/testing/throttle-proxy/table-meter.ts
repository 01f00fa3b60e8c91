import { TokenBucket } from '../../core/token-bucket.js';
import type { IndexStats, TableBudget, ThrottleStats } from './options.js';
import type { WireCapacity } from './wire.js';

/** How a meter sizes its buckets. */
export interface BucketOptions {
  /**
   * Seconds of unused capacity a bucket may hold. 1 holds one second's worth (no burst);
   * DynamoDB's burst allowance is 300.
   */
  readonly windowSeconds: number;
  /** Clock in milliseconds; injectable for tests. Default `performance.now`. */
  readonly now?: () => number;
}

export type Kind = 'read' | 'write';

/** A spent budget: the table's own (`index` undefined) or a global secondary index's. */
export interface Block {
  readonly kind: Kind;
  readonly index?: string;
}

/** Units taken from a budget before forwarding; `resource` is '' for the table, else a GSI name. */
export interface Reservation {
  readonly kind: Kind;
  readonly resource: string;
  readonly units: number;
}

interface Buckets {
  write?: TokenBucket;
  read?: TokenBucket;
}

interface MutableIndexStats {
  consumedWcu: number;
  consumedRcu: number;
  throttledRequests: number;
}

const zeroCounters = () => ({
  requests: 0,
  throttledRequests: 0,
  partialRequests: 0,
  consumedWcu: 0,
  consumedRcu: 0,
  acceptedItems: 0,
  unprocessedItems: 0,
  rejectedItems: 0,
});

/**
 * Budgets and counters of one table: a read and a write bucket for the table and for each
 * budgeted GSI. Requests are admitted while the buckets they draw from are above zero, reserve
 * their estimate, and settle to what DynamoDB Local reports once answered.
 */
export class TableMeter {
  /** ARN used in ThrottlingReasons; DescribeTable replaces this guess with the real one. */
  arn: string;
  private own: Buckets = {};
  private readonly gsiBuckets = new Map<string, Buckets>();
  /** GSIs known from DescribeTable, the budget, or consumption reports: Query/Scan on them draws from the index. */
  private readonly gsis = new Set<string>();
  private budgetValue: TableBudget | undefined;
  private counters = zeroCounters();
  private indexCounters = new Map<string, MutableIndexStats>();
  private since: number;

  constructor(
    readonly table: string,
    private readonly bucketOptions: BucketOptions,
  ) {
    this.arn = `arn:aws:dynamodb:ddblocal:000000000000:table/${table}`;
    this.since = this.now();
  }

  private now(): number {
    return this.bucketOptions.now?.() ?? performance.now();
  }

  /** True when any of the table's or its indexes' sides has a budget. */
  get metered(): boolean {
    return (
      this.own.read !== undefined ||
      this.own.write !== undefined ||
      [...this.gsiBuckets.values()].some((b) => b.read || b.write)
    );
  }

  get budget(): TableBudget | undefined {
    return this.budgetValue;
  }

  /** Applies a budget; existing buckets keep their balance, sides without a number lose their bucket. */
  setBudget(budget: TableBudget | undefined, gsiNames: Iterable<string> = []): void {
    this.budgetValue = budget;
    this.own = this.rebuild(this.own, budget);
    for (const g of gsiNames) this.gsis.add(g);
    const names = new Set([...this.gsiBuckets.keys(), ...Object.keys(budget?.indexes ?? {})]);
    for (const name of names) {
      const b = budget?.indexes?.[name];
      if (b) this.gsis.add(name);
      this.gsiBuckets.set(name, this.rebuild(this.gsiBuckets.get(name) ?? {}, b));
    }
  }

  private rebuild(old: Buckets, t: { wcu?: number; rcu?: number } | undefined): Buckets {
    const { windowSeconds, now } = this.bucketOptions;
    const side = (bucket: TokenBucket | undefined, rate: number | undefined) => {
      if (rate === undefined) return undefined;
      // A fresh bucket holds one second's worth, so a new budget admits its first requests without a
      // saved-up burst that a test would have to drain first.
      if (!bucket) return new TokenBucket({ rate, capacity: rate * windowSeconds, initial: rate, now });
      bucket.setRate(rate, rate * windowSeconds);
      return bucket;
    };
    return { write: side(old.write, t?.wcu), read: side(old.read, t?.rcu) };
  }

  /** The resource a request draws from: a known GSI for reads on it, otherwise the table (LSIs share the table's). */
  resourceFor(kind: Kind, index?: string): string {
    return kind === 'read' && index !== undefined && this.gsis.has(index) ? index : '';
  }

  /** The spent budget that refuses a request of `kind` (reads: on `index`), if any. A write also needs every GSI's write budget. */
  blocked(kind: Kind, index?: string): Block | undefined {
    const resource = this.resourceFor(kind, index);
    const own = this.bucket(kind, resource);
    if (own && own.available() <= 0) return resource ? { kind, index: resource } : { kind };
    if (kind === 'write') {
      for (const [name, b] of this.gsiBuckets) if (b.write && b.write.available() <= 0) return { kind, index: name };
    }
    return undefined;
  }

  /**
   * Takes the estimate from the bucket the request draws from. The counters follow the bucket:
   * units count as consumed from admission, and are corrected when the request settles, so that
   * a window of the counters shows what the budget admitted even while answers are slow.
   */
  reserve(kind: Kind, units: number, index?: string): Reservation {
    const resource = this.resourceFor(kind, index);
    this.bucket(kind, resource)?.take(units);
    this.countConsumed(kind, resource, units);
    return { kind, resource, units };
  }

  /** Gives a reservation back: the request was not carried out. */
  refund(r: Reservation): void {
    this.bucket(r.kind, r.resource)?.take(-r.units);
    this.countConsumed(r.kind, r.resource, -r.units);
  }

  /**
   * Replaces reservations with consumption: what DynamoDB Local reported for the request
   * (`INDEXES` level), or the estimates themselves when it reported nothing. With `atLeastEstimate`,
   * a report below the estimate is taken as the estimate: for requests whose estimate is
   * DynamoDB's minimum charge and whose report from DynamoDB Local falls short of it.
   */
  settle(rs: readonly Reservation[], consumed: WireCapacity | undefined, atLeastEstimate = false): void {
    if (rs.length === 0) return;
    const kind = rs[0]!.kind;
    const reserved = new Map<string, number>();
    for (const r of rs) reserved.set(r.resource, (reserved.get(r.resource) ?? 0) + r.units);
    const actual = consumed ? this.actualUnits(consumed) : reserved;
    for (const resource of new Set([...reserved.keys(), ...actual.keys()])) {
      const reported = actual.get(resource) ?? 0;
      const used = atLeastEstimate ? Math.max(reported, reserved.get(resource) ?? 0) : reported;
      const correction = used - (reserved.get(resource) ?? 0);
      this.bucket(kind, resource)?.take(correction);
      this.countConsumed(kind, resource, correction);
    }
  }

  private actualUnits(c: WireCapacity): Map<string, number> {
    const out = new Map<string, number>();
    let gsiTotal = 0;
    for (const [name, v] of Object.entries(c.GlobalSecondaryIndexes ?? {})) {
      this.gsis.add(name);
      out.set(name, v.CapacityUnits ?? 0);
      gsiTotal += v.CapacityUnits ?? 0;
    }
    // The table's share: the total less GSIs, so that LSI units (which use the table's capacity) count.
    out.set('', Math.max(0, (c.CapacityUnits ?? 0) - gsiTotal));
    return out;
  }

  private bucket(kind: Kind, resource: string): TokenBucket | undefined {
    const b = resource ? this.gsiBuckets.get(resource) : this.own;
    return kind === 'write' ? b?.write : b?.read;
  }

  private countConsumed(kind: Kind, resource: string, units: number): void {
    const field = kind === 'write' ? 'consumedWcu' : 'consumedRcu';
    if (resource) this.indexStats(resource)[field] += units;
    else this.counters[field] += units;
  }

  private indexStats(name: string): MutableIndexStats {
    let s = this.indexCounters.get(name);
    if (!s) this.indexCounters.set(name, (s = { consumedWcu: 0, consumedRcu: 0, throttledRequests: 0 }));
    return s;
  }

  /** A request touched the table. */
  countRequest(): void {
    this.counters.requests++;
  }

  /** A request was refused whole because of `block`; `items` items or keys of it were this table's. */
  countThrottled(block: Block | undefined, items: number): void {
    this.counters.throttledRequests++;
    this.counters.rejectedItems += items;
    if (block?.index) this.indexStats(block.index).throttledRequests++;
  }

  /** Outcome of a forwarded request for this table: items applied, and items handed back as unprocessed. */
  countOutcome(accepted: number, unprocessed: number, heldBack = false): void {
    this.counters.acceptedItems += accepted;
    this.counters.unprocessedItems += unprocessed;
    if (heldBack) this.counters.partialRequests++;
  }

  stats(): ThrottleStats {
    const indexes: Record<string, IndexStats> = {};
    for (const [k, v] of this.indexCounters) indexes[k] = { ...v };
    return { ...this.counters, indexes, budget: this.budgetValue, elapsedMs: this.now() - this.since };
  }

  resetStats(): void {
    this.counters = zeroCounters();
    this.indexCounters = new Map();
    this.since = this.now();
  }
}
