import type { Clock, Timer } from '../../core/clock.js';
import type { Metrics } from '../metrics.js';
import type { FlowCounts, PipelineStatus, TableStatus } from './types.js';

/** Samples kept: with the default 2 s interval, two minutes of lag history. */
const KEEP = 60;
/** Samples the per-second rates span (with the default interval, 10 s). */
const WINDOW = 5;

interface Sample {
  /** Epoch ms (for display) of the sample. */
  readonly at: number;
  readonly flows: ReadonlyMap<string, FlowCounts>;
  /** `${table}|${kind}` → consumed and throttled units so far. */
  readonly capacity: ReadonlyMap<string, { readonly consumed: number; readonly throttled: number }>;
  /** `${source}|${shard}` → seconds behind. */
  readonly lag: ReadonlyMap<string, number>;
  readonly budget: ReadonlyMap<string, number>;
  readonly rate: ReadonlyMap<string, number>;
}

/**
 * Reads a runner's metrics at an interval and keeps the last samples, from which the status
 * shows rates per second (records in, applied and dead-lettered per pipeline; capacity consumed
 * and throttled per table) and each shard's recent lag. Rates come from counter differences, so
 * they hold whatever the interval, and nothing is counted twice when a sample is late.
 *
 * @example
 * ```ts
 * const sampler = new StatusSampler(metrics, systemClock, 2_000);
 * sampler.start();
 * sampler.pipelines(); // [{ name: 'clicks', totals: {...}, perSecond: { in: 120, applied: 118, deadLettered: 0 } }]
 * ```
 */
export class StatusSampler {
  private readonly samples: Sample[] = [];
  private timer: Timer | undefined;

  constructor(
    private readonly metrics: Metrics,
    private readonly clock: Clock,
    readonly sampleMs: number,
    /** Epoch time for display; the interval runs on `clock`. */
    private readonly wallNow: () => number = Date.now,
  ) {}

  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = this.clock.setInterval(() => void this.sample(), this.sampleMs);
    this.timer.unref();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Seconds the per-second rates span now (less until enough samples exist). */
  get windowSeconds(): number {
    const [a, b] = this.ends();
    return a && b ? (b.at - a.at) / 1000 : 0;
  }

  /** Takes a sample now. */
  async sample(): Promise<void> {
    const m = this.metrics;
    const [inn, applied, dead, consumed, throttled, behind, budget, rate] = await Promise.all([
      m.series('tributary_records_in_total'),
      m.series('tributary_records_applied_total'),
      m.series('tributary_dead_letters_total'),
      m.series('tributary_capacity_consumed_units_total'),
      m.series('tributary_capacity_throttled_total'),
      m.series('tributary_behind_seconds'),
      m.series('tributary_capacity_budget_units_per_second'),
      m.series('tributary_capacity_rate_units_per_second'),
    ]);
    const flows = new Map<string, { in: number; applied: number; deadLettered: number }>();
    const flow = (p: string) => flows.get(p) ?? flows.set(p, { in: 0, applied: 0, deadLettered: 0 }).get(p)!;
    for (const s of inn) flow(s.labels.pipeline ?? '').in += s.value;
    for (const s of applied) flow(s.labels.pipeline ?? '').applied += s.value;
    for (const s of dead) flow(s.labels.pipeline ?? '').deadLettered += s.value;
    const capacity = new Map<string, { consumed: number; throttled: number }>();
    const cap = (l: Record<string, string>) => {
      const k = `${l.table ?? ''}|${l.kind ?? ''}`;
      return capacity.get(k) ?? capacity.set(k, { consumed: 0, throttled: 0 }).get(k)!;
    };
    for (const s of consumed) cap(s.labels).consumed += s.value;
    for (const s of throttled) cap(s.labels).throttled += s.value;
    const byTable = (series: readonly { labels: Record<string, string>; value: number }[]) =>
      new Map(series.map((s) => [`${s.labels.table ?? ''}|${s.labels.kind ?? ''}`, s.value]));
    // A governed table shows before its first write: its budget makes it a row.
    for (const s of [...budget, ...rate]) cap(s.labels);
    this.samples.push({
      at: this.wallNow(),
      flows,
      capacity,
      lag: new Map(behind.map((s) => [`${s.labels.source ?? ''}|${s.labels.shard ?? ''}`, s.value])),
      budget: byTable(budget),
      rate: byTable(rate),
    });
    if (this.samples.length > KEEP) this.samples.shift();
  }

  pipelines(names: readonly string[]): PipelineStatus[] {
    const [a, b] = this.ends();
    const secs = a && b ? (b.at - a.at) / 1000 : 0;
    return names.map((name) => {
      const now = b?.flows.get(name) ?? ZERO;
      const then = a?.flows.get(name) ?? ZERO;
      const per = (k: keyof FlowCounts) => (secs > 0 ? Math.max(0, now[k] - then[k]) / secs : 0);
      return {
        name,
        totals: now,
        perSecond: { in: per('in'), applied: per('applied'), deadLettered: per('deadLettered') },
      };
    });
  }

  tables(): TableStatus[] {
    const [a, b] = this.ends();
    if (!b) return [];
    const secs = a ? (b.at - a.at) / 1000 : 0;
    return [...b.capacity.entries()]
      .map(([k, now]) => {
        const [table, kind] = k.split('|') as [string, string];
        const then = a?.capacity.get(k) ?? { consumed: 0, throttled: 0 };
        const per = (x: number, y: number) => (secs > 0 ? Math.max(0, x - y) / secs : 0);
        const budget = b.budget.get(k);
        const rate = b.rate.get(k);
        return {
          table,
          kind,
          ...(budget === undefined ? {} : { budget }),
          ...(rate === undefined ? {} : { rate }),
          consumedPerSecond: per(now.consumed, then.consumed),
          throttledPerSecond: per(now.throttled, then.throttled),
          consumedTotal: now.consumed,
          throttledTotal: now.throttled,
        };
      })
      .sort((x, y) => x.table.localeCompare(y.table) || x.kind.localeCompare(y.kind));
  }

  /** This worker's lag readings of a shard, oldest first, as [epoch ms, lag ms]. */
  lagHistory(source: string, shard: string): [number, number][] {
    const k = `${source}|${shard}`;
    const out: [number, number][] = [];
    for (const s of this.samples) {
      const v = s.lag.get(k);
      if (v !== undefined) out.push([s.at, Math.round(v * 1000)]);
    }
    return out;
  }

  /** The latest sample's shards read by this worker, as `${source}|${shard}` keys. */
  localShards(): ReadonlySet<string> {
    return new Set(this.samples.at(-1)?.lag.keys() ?? []);
  }

  /** The first and last sample of the rate window. */
  private ends(): [Sample | undefined, Sample | undefined] {
    const n = this.samples.length;
    if (n === 0) return [undefined, undefined];
    return [this.samples[Math.max(0, n - 1 - WINDOW)], this.samples[n - 1]];
  }
}

const ZERO: FlowCounts = { in: 0, applied: 0, deadLettered: 0 };
