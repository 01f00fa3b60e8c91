import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../observe/log.js';
import type { Metrics } from '../../observe/metrics.js';
import { FrequentItems } from '../../operators/windows/top-k.js';

type Kind = 'read' | 'write';

/** What one DynamoDB partition serves at most, per second: 1,000 write units, 3,000 read units. */
export const PARTITION_UNITS: Readonly<Record<Kind, number>> = { write: 1_000, read: 3_000 };

/** Seconds over which hot keys are counted; the report is of the last whole period. */
const PERIOD_MS = 10_000;
/** Counters kept per kind: bounded memory whatever the number of keys. */
const CAPACITY = 64;
/** The share of the table's budget one key may take before a warning. */
const WARN_SHARE = 0.5;

/** The hottest partition keys of a table over the last period. */
export interface HotKeyReport {
  readonly kind: Kind;
  /** The hottest keys, hottest first, with their units per second (lower bounds). */
  readonly top: readonly { readonly key: string; readonly unitsPerSecond: number }[];
  /** The hottest key's units per second over what one partition serves (1,000 WCU, 3,000 RCU). */
  readonly partitionShare: number;
  /** The hottest key's units per second over the table's budget; undefined for an ungoverned table. */
  readonly budgetShare?: number;
  /** Units per second of all keys. */
  readonly unitsPerSecond: number;
}

/**
 * Partition-key skew of one table: the units each partition key consumed, counted per period of
 * 10 s in a bounded frequent-items summary (the taps' Misra-Gries `FrequentItems`, weighted by
 * units), so a table with millions of keys costs 64 counters a kind. At the end of each period:
 * gauges of the hottest key against one partition's limit and against the table's budget, and a
 * warning when one key takes most of the budget (DynamoDB throttles a hot partition long before
 * the table is spent, and adaptive capacity only helps so far).
 */
export class HotKeys {
  private readonly current: Record<Kind, FrequentItems> = {
    read: new FrequentItems(CAPACITY),
    write: new FrequentItems(CAPACITY),
  };
  private readonly last: Partial<Record<Kind, HotKeyReport>> = {};
  private periodStart: number;

  constructor(
    private readonly table: string,
    private readonly deps: {
      readonly clock: Clock;
      readonly metrics: Metrics;
      readonly log: Logger;
      /** The table's budget of a kind now (undefined: ungoverned). */
      readonly budget: (kind: Kind) => number | undefined;
    },
  ) {
    this.periodStart = deps.clock.now();
  }

  /** Units a call spent on one partition key. */
  record(kind: Kind, key: string, units: number): void {
    this.roll();
    if (units > 0) this.current[kind].add(key, units);
  }

  /** The last whole period's hot keys, by kind (none before the first period ends). */
  report(): Partial<Record<Kind, HotKeyReport>> {
    this.roll();
    return { ...this.last };
  }

  /** Ends the period once it is over: reports it and starts the next. */
  private roll(): void {
    const now = this.deps.clock.now();
    const elapsed = now - this.periodStart;
    if (elapsed < PERIOD_MS) return;
    const seconds = elapsed / 1000;
    for (const kind of ['read', 'write'] as const) {
      const f = this.current[kind];
      this.current[kind] = new FrequentItems(CAPACITY);
      if (f.total === 0) {
        delete this.last[kind];
        continue;
      }
      const top = f.top(5).map((t) => ({ key: t.value, unitsPerSecond: t.count / seconds }));
      const hottest = top[0]!.unitsPerSecond;
      const budget = this.deps.budget(kind);
      const report: HotKeyReport = {
        kind,
        top,
        partitionShare: hottest / PARTITION_UNITS[kind],
        unitsPerSecond: f.total / seconds,
        ...(budget ? { budgetShare: hottest / budget } : {}),
      };
      this.last[kind] = report;
      const labels = { table: this.table, kind };
      this.deps.metrics.set('tributary_hot_key_units_per_second', labels, hottest);
      this.deps.metrics.set('tributary_hot_key_partition_share', labels, report.partitionShare);
      if (report.budgetShare !== undefined)
        this.deps.metrics.set('tributary_hot_key_budget_share', labels, report.budgetShare);
      if ((report.budgetShare ?? 0) >= WARN_SHARE || report.partitionShare >= WARN_SHARE)
        this.deps.log.warn('one partition key takes most of the capacity', {
          table: this.table,
          kind,
          key: top[0]!.key,
          unitsPerSecond: Math.round(hottest),
          budgetShare: report.budgetShare,
          partitionShare: report.partitionShare,
        });
    }
    this.periodStart = now;
  }
}
