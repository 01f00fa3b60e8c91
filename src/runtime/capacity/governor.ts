import {
  DescribeTableCommand,
  type AttributeValue,
  type ConsumedCapacity,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { Clock, Timer } from '../../core/clock.js';
import { isNotFound } from '../../core/not-found.js';
import { TokenBucket } from '../../core/token-bucket.js';
import type { Logger } from '../../observe/log.js';
import type { Metrics } from '../../observe/metrics.js';
import type { IoObserver } from '../../sinks/table-io.js';
import { HotKeys } from './hot-keys.js';
import { Aimd, DEFAULT_AIMD } from './aimd.js';
import { DYNAMODB_BURST_SECONDS, type CapacityConfig } from './config.js';

type Kind = 'read' | 'write';

interface Lane {
  budget: number | undefined;
  readonly aimd: Aimd;
  readonly bucket: TokenBucket;
}

/**
 * Governs one table's reads and writes: calls take tokens before they are sent, consumed capacity
 * corrects the estimate, throttling shrinks the rate and quiet periods grow it back, all under a
 * budget read from the table (and refreshed) or configured.
 */
export class TableGovernor implements IoObserver {
  private readonly lanes: Record<Kind, Lane>;
  private refreshing: Timer | undefined;
  private started: Promise<void> | undefined;
  private readonly labels: { table: string };
  /** The partition key's attribute, once the table is described. */
  private partitionKey: string | undefined;
  private readonly hot: HotKeys;

  constructor(
    private readonly ddb: DynamoDBClient,
    readonly table: string,
    private readonly config: CapacityConfig,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    /** Time of the buckets' refills, the rate's growth, the waits and the refresh timer. */
    private readonly clock: Clock,
    /** Once aborted, the refresh in flight and the waits for tokens end (a runner stopping past its deadline). */
    private readonly signal?: AbortSignal,
  ) {
    this.labels = { table };
    const now = () => clock.now();
    const lane = (): Lane => ({
      budget: undefined,
      aimd: new Aimd(1, DEFAULT_AIMD, now),
      bucket: new TokenBucket({ rate: 1, now }),
    });
    this.lanes = { read: lane(), write: lane() };
    this.hot = new HotKeys(table, { clock, metrics, log, budget: (kind) => this.lanes[kind].budget });
  }

  /** The table's hottest partition keys over the last 10 s, by kind. */
  hotKeys(): ReturnType<HotKeys['report']> {
    return this.hot.report();
  }

  /** Units each item of a call spent, by its key (or whole item): counted against its partition key. */
  keys(
    kind: Kind,
    entries: readonly { readonly key: Readonly<Record<string, AttributeValue>>; readonly units: number }[],
  ): void {
    const pk = this.partitionKey;
    if (!pk) return;
    for (const e of entries) {
      const v = e.key[pk];
      const text = v?.S ?? v?.N ?? (v?.B ? Buffer.from(v.B).toString('base64') : undefined);
      if (text !== undefined) this.hot.record(kind, text, e.units);
    }
  }

  /** Reads the table's capacity and starts refreshing it. Idempotent. */
  start(): Promise<void> {
    this.started ??= this.begin();
    return this.started;
  }

  private async begin(): Promise<void> {
    // Until the table can be read the table is ungoverned; the refresh timer keeps trying.
    await this.refresh().catch((e: unknown) =>
      this.log.warn('capacity governor could not read the table', { table: this.table, error: e }),
    );
    this.refreshing = this.clock.setInterval(
      () =>
        void this.refresh().catch((e: unknown) =>
          this.log.warn('capacity refresh failed', { table: this.table, error: e }),
        ),
      this.config.refreshMs ?? 30_000,
    );
    this.refreshing.unref();
  }

  stop(): void {
    this.refreshing?.cancel();
  }

  /** Current budget of a kind (undefined: ungoverned). */
  budget(kind: Kind): number | undefined {
    return this.lanes[kind].budget;
  }

  /** Current send rate of a kind (the budget, or less after throttling). */
  rate(kind: Kind): number | undefined {
    const l = this.lanes[kind];
    return l.budget === undefined ? undefined : l.aimd.current;
  }

  async refresh(): Promise<void> {
    let table: TableDescription | undefined;
    try {
      table = (await this.ddb.send(new DescribeTableCommand({ TableName: this.table }), { abortSignal: this.signal }))
        .Table;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    this.partitionKey = table?.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName ?? this.partitionKey;
    this.apply('write', provisioned(table, 'WriteCapacityUnits'), this.config.writeRate);
    this.apply('read', provisioned(table, 'ReadCapacityUnits'), this.config.readRate);
  }

  private apply(kind: Kind, provisionedUnits: number | undefined, configured: number | undefined): void {
    const share = this.config.share ?? 1;
    const fromTable = provisionedUnits === undefined ? undefined : provisionedUnits * share;
    const budget =
      fromTable === undefined ? configured : configured === undefined ? fromTable : Math.min(fromTable, configured);
    const l = this.lanes[kind];
    if (budget === l.budget) return;
    if (l.budget !== undefined || budget !== undefined)
      this.log.info('capacity budget', { table: this.table, kind, from: l.budget ?? null, to: budget ?? null });
    l.budget = budget;
    if (budget === undefined) return;
    l.aimd.setBudget(budget);
    const burst = Math.min(DYNAMODB_BURST_SECONDS, this.config.burstSeconds ?? 1);
    l.bucket.setRate(l.aimd.current, Math.max(1, budget * burst));
    this.metrics.set('tributary_capacity_budget_units_per_second', { ...this.labels, kind }, budget);
  }

  maxUnitsPerRequest(kind: Kind): number | undefined {
    const l = this.lanes[kind];
    return l.budget === undefined ? undefined : Math.max(1, Math.floor(l.aimd.current));
  }

  async acquire(kind: Kind, units: number): Promise<void> {
    await this.start();
    const l = this.lanes[kind];
    if (l.budget === undefined || units <= 0) return;
    let waited = 0;
    for (;;) {
      const rate = l.aimd.current;
      l.bucket.setRate(rate);
      this.metrics.set('tributary_capacity_rate_units_per_second', { ...this.labels, kind }, rate);
      const wait = l.bucket.tryTake(units);
      if (wait === 0) break;
      waited += wait;
      await this.clock.sleep(wait, this.signal);
      // Halted: the call that waited is abandoned, and the error says why.
      this.signal?.throwIfAborted();
    }
    if (waited) this.metrics.inc('tributary_capacity_wait_seconds_total', { ...this.labels, kind }, waited / 1000);
  }

  consumed(kind: Kind, capacity: ConsumedCapacity | undefined, estimated: number): void {
    const actual = capacity
      ? (capacity.Table?.CapacityUnits ??
        (kind === 'write' ? capacity.WriteCapacityUnits : capacity.ReadCapacityUnits) ??
        capacity.CapacityUnits)
      : undefined;
    const units = actual ?? estimated;
    this.metrics.inc('tributary_capacity_consumed_units_total', { ...this.labels, kind }, units);
    if (actual !== undefined && this.lanes[kind].budget !== undefined) this.lanes[kind].bucket.take(actual - estimated);
  }

  throttled(kind: Kind, count: number): void {
    if (count <= 0) return;
    this.metrics.inc('tributary_capacity_throttled_total', { ...this.labels, kind }, count);
    this.lanes[kind].aimd.throttled();
  }
}

/** Provisioned units of a table, GSIs included: every write lands on each, so the smallest limits. */
function provisioned(
  t: TableDescription | undefined,
  field: 'ReadCapacityUnits' | 'WriteCapacityUnits',
): number | undefined {
  if (!t || t.BillingModeSummary?.BillingMode === 'PAY_PER_REQUEST') return undefined;
  const base = t.ProvisionedThroughput?.[field];
  if (!base) return undefined;
  const gsis = (t.GlobalSecondaryIndexes ?? [])
    .map((g) => g.ProvisionedThroughput?.[field])
    .filter((n): n is number => !!n);
  return field === 'WriteCapacityUnits' ? Math.min(base, ...gsis) : base;
}
