import { TributaryError } from '../../core/errors.js';
import type { BudgetSource, TableBudget, Throughput, ThrottleStats } from './options.js';
import { TableMeter, type BucketOptions } from './table-meter.js';
import type { Upstream } from './upstream.js';
import { isObject, type Json } from './wire.js';

interface Entry {
  source: 'explicit' | 'provisioned';
  readonly meter: TableMeter;
  /** A provisioned budget to read (again) before the next request is metered. */
  stale: boolean;
  pending?: Promise<void>;
}

export interface BookOptions {
  readonly tables: Readonly<Record<string, BudgetSource>>;
  readonly defaultBudget: 'provisioned' | 'none';
  readonly buckets: BucketOptions;
}

/**
 * Every table's meter, and where its budget comes from. Provisioned budgets are read lazily with
 * DescribeTable through the target, signed like the request that needed them (DynamoDB Local
 * without `-sharedDb` keeps one set of tables per access key and region).
 */
export class BudgetBook {
  private readonly entries = new Map<string, Entry>();
  private lastAuthorization: string | undefined;

  constructor(
    private readonly upstream: Upstream,
    private readonly opts: BookOptions,
  ) {
    for (const [table, source] of Object.entries(opts.tables)) this.install(table, source);
  }

  /** The meter of `table`, or `undefined` when it has no budget (pass it through untouched). */
  async meter(table: string, authorization: string | undefined): Promise<TableMeter | undefined> {
    if (authorization) this.lastAuthorization = authorization;
    const e =
      this.entries.get(table) ??
      (this.opts.defaultBudget === 'provisioned' ? this.install(table, 'provisioned') : undefined);
    if (!e) return undefined;
    if (e.source === 'provisioned' && e.stale) await this.read(e, authorization).catch(() => undefined);
    return e.meter.metered ? e.meter : undefined;
  }

  /** After an UpdateTable passed: a provisioned budget is read again before the client hears back. */
  async tableUpdated(table: string, authorization: string | undefined): Promise<void> {
    const e = this.entries.get(table);
    if (e?.source !== 'provisioned') return;
    e.stale = true;
    await this.read(e, authorization).catch(() => undefined);
  }

  /** After CreateTable or DeleteTable passed: a provisioned budget is read again on next use. */
  tableReplaced(table: string): void {
    const e = this.entries.get(table);
    if (e?.source === 'provisioned') e.stale = true;
  }

  async set(table: string, source: BudgetSource | null): Promise<void> {
    const e = this.install(table, source ?? {});
    if (e.source === 'provisioned') await this.read(e, this.lastAuthorization);
  }

  stats(table: string): ThrottleStats {
    return (this.entries.get(table)?.meter ?? new TableMeter(table, this.opts.buckets)).stats();
  }

  resetStats(table?: string): void {
    for (const [name, e] of this.entries) if (table === undefined || table === name) e.meter.resetStats();
  }

  private install(table: string, source: BudgetSource): Entry {
    let e = this.entries.get(table);
    if (!e)
      this.entries.set(
        table,
        (e = { source: 'explicit', meter: new TableMeter(table, this.opts.buckets), stale: false }),
      );
    if (source === 'provisioned') {
      e.source = 'provisioned';
      e.stale = true;
    } else {
      validate(table, source);
      e.source = 'explicit';
      e.stale = false;
      e.meter.setBudget(isEmpty(source) ? undefined : source);
    }
    return e;
  }

  private read(e: Entry, authorization: string | undefined): Promise<void> {
    e.pending ??= this.describe(e, authorization ?? this.lastAuthorization).finally(() => (e.pending = undefined));
    return e.pending;
  }

  private async describe(e: Entry, authorization: string | undefined): Promise<void> {
    const up = await this.upstream.call('DescribeTable', { TableName: e.meter.table }, authorization);
    const table = up.status === 200 ? (JSON.parse(up.body.toString('utf8')) as Json).Table : undefined;
    // A table that does not exist (yet) has no budget; it is read again on next use.
    if (!isObject(table) || e.source !== 'provisioned') return;
    const { budget, gsis } = provisionedBudget(table);
    if (typeof table.TableArn === 'string') e.meter.arn = table.TableArn;
    e.meter.setBudget(budget, gsis);
    e.stale = false;
  }
}

/** A DescribeTable `Table`'s provisioned throughput as a budget; on-demand tables have none. */
export function provisionedBudget(table: Json): { budget: TableBudget | undefined; gsis: string[] } {
  const gsiList = Array.isArray(table.GlobalSecondaryIndexes) ? table.GlobalSecondaryIndexes.filter(isObject) : [];
  const gsis = gsiList.map((g) => String(g.IndexName));
  const billing = isObject(table.BillingModeSummary) ? table.BillingModeSummary.BillingMode : undefined;
  if (billing === 'PAY_PER_REQUEST') return { budget: undefined, gsis };
  const own = throughputOf(table.ProvisionedThroughput);
  const indexes: Record<string, Throughput> = {};
  for (const g of gsiList) {
    const t = throughputOf(g.ProvisionedThroughput);
    if (t) indexes[String(g.IndexName)] = t;
  }
  if (!own && Object.keys(indexes).length === 0) return { budget: undefined, gsis };
  return { budget: { ...own, ...(Object.keys(indexes).length ? { indexes } : {}) }, gsis };
}

function throughputOf(p: unknown): Throughput | undefined {
  if (!isObject(p)) return undefined;
  const wcu = Number(p.WriteCapacityUnits ?? 0);
  const rcu = Number(p.ReadCapacityUnits ?? 0);
  // DynamoDB Local reports 0/0 for on-demand tables and indexes.
  return wcu > 0 || rcu > 0 ? { wcu, rcu } : undefined;
}

const isEmpty = (b: TableBudget) =>
  b.wcu === undefined && b.rcu === undefined && Object.keys(b.indexes ?? {}).length === 0;

function validate(table: string, b: TableBudget): void {
  const check = (what: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0))
      throw new TributaryError(
        'config.invalid',
        `throttle proxy: ${what} of ${table} must be a finite number >= 0, got ${v}`,
        { details: { table, value: v } },
      );
  };
  check('wcu', b.wcu);
  check('rcu', b.rcu);
  for (const [name, t] of Object.entries(b.indexes ?? {})) {
    check(`wcu of index ${name}`, t.wcu);
    check(`rcu of index ${name}`, t.rcu);
  }
}
