import type { Clock } from '../../core/clock.js';

/** Units a second for one table or index; a missing field leaves that side unthrottled. */
export interface Throughput {
  /** Write capacity units a second. */
  readonly wcu?: number;
  /** Read capacity units a second. */
  readonly rcu?: number;
}

/** A table's budget: its own throughput, and optionally its global secondary indexes'. */
export interface TableBudget extends Throughput {
  /**
   * Budgets of global secondary indexes by index name. A write to the table is throttled when
   * any of them is spent (as DynamoDB does), and a Query or Scan on the index reads from its budget.
   */
  readonly indexes?: Readonly<Record<string, Throughput>>;
}

/**
 * Where a table's budget comes from: given numbers, or `'provisioned'`: the table's
 * ProvisionedThroughput (GSIs included) read by DescribeTable through the target, and read again
 * whenever an UpdateTable passes through the proxy. On-demand tables have no budget.
 */
export type BudgetSource = TableBudget | 'provisioned';

export interface ThrottleProxyOptions {
  /** DynamoDB endpoint to forward to, e.g. DynamoDB Local's `http://127.0.0.1:8000`. */
  readonly target: string;
  /** Budgets by table name. Tables not named here follow {@link defaultBudget}. */
  readonly tables?: Readonly<Record<string, BudgetSource>>;
  /**
   * Budget of tables not named in {@link tables}: `'provisioned'` reads each table's
   * provisioned throughput on first use; `'none'` (default) passes them untouched.
   */
  readonly defaultBudget?: 'provisioned' | 'none';
  /**
   * DynamoDB's burst allowance: unused capacity accumulates up to `seconds` worth (DynamoDB keeps
   * 300). Default `false`: a bucket holds one second's worth, so a test sees the budget rate from
   * the first second rather than after draining minutes of banked capacity.
   */
  readonly burst?: { readonly seconds?: number } | false;
  /** Port to listen on (loopback). Default: a free port. */
  readonly port?: number;
  /**
   * Time of the buckets' refills and of the stats' `elapsedMs`. Default the system clock; a test
   * that runs a Runner on a `ManualClock` hands the proxy the same clock, so both count the same seconds.
   */
  readonly clock?: Pick<Clock, 'now'>;
}

/** Counters of one global secondary index. */
export interface IndexStats {
  readonly consumedWcu: number;
  readonly consumedRcu: number;
  /** Requests refused because this index's budget was spent. */
  readonly throttledRequests: number;
}

/**
 * Counters of one table since the proxy started (or `resetStats`). Utilization is
 * `consumedWcu / (budget.wcu × elapsedMs / 1000)`; the throttled share of items is
 * `(unprocessedItems + rejectedItems) / (acceptedItems + unprocessedItems + rejectedItems)`.
 */
export interface ThrottleStats {
  /** Data-plane requests that touched the table (a batch or transaction counts once per table). */
  readonly requests: number;
  /** Requests refused without forwarding: ProvisionedThroughputExceededException, or a transaction cancelled for throughput. */
  readonly throttledRequests: number;
  /** Batches forwarded with some of this table's items or keys held back as unprocessed. */
  readonly partialRequests: number;
  /**
   * Write units the table consumed, GSIs not included: as DynamoDB Local reports them once
   * answered, and at the proxy's estimate while a request is in flight (so that the counter
   * follows the budget's bucket, even when answers are slow).
   */
  readonly consumedWcu: number;
  /** Read units the table consumed, counted like {@link consumedWcu}. */
  readonly consumedRcu: number;
  /** Items written, keys read, or Query/Scan pages served (one each). */
  readonly acceptedItems: number;
  /** Items or keys returned to the caller as UnprocessedItems / UnprocessedKeys (held back by the proxy, or by DynamoDB Local). */
  readonly unprocessedItems: number;
  /** Items or keys of requests refused whole. */
  readonly rejectedItems: number;
  readonly indexes: Readonly<Record<string, IndexStats>>;
  /** The budget in force now (`undefined`: unthrottled). */
  readonly budget: TableBudget | undefined;
  /** Milliseconds the counters cover. */
  readonly elapsedMs: number;
}

/** A running throttling proxy. */
export interface ThrottleProxy {
  /** Point DynamoDB (and DynamoDB Streams) clients here. */
  readonly endpoint: string;
  /** Counters of a table (zeros for a table the proxy has not metered). */
  stats(table: string): ThrottleStats;
  /** Zeroes the counters of one table, or of all. */
  resetStats(table?: string): void;
  /**
   * Replaces a table's budget from now on; the buckets keep their balance. `'provisioned'`
   * reads it from the table (and resolves once read); `null` stops metering the table.
   */
  setBudget(table: string, budget: BudgetSource | null): Promise<void>;
  /** Closes the listener and every connection. */
  stop(): Promise<void>;
}
