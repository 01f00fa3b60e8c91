/** Label values of one series. */
export type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  readonly series: Map<string, { labels: Labels; value: number }>;
}

/**
 * A small metrics registry with Prometheus text exposition. The runner, sources and sinks report
 * through one instance; `render()` serves `/metrics`.
 *
 * @example
 * ```ts
 * const m = new Metrics();
 * m.inc('tributary_records_in_total', { pipeline: 'p' }, 1000);
 * console.log(m.render());
 * ```
 */
export class Metrics {
  private readonly families = new Map<string, Family>();

  constructor(private readonly helps: Readonly<Record<string, string>> = METRIC_HELP) {}

  inc(name: string, labels: Labels = {}, by = 1): void {
    const s = this.series(name, 'counter', labels);
    s.value += by;
  }

  set(name: string, labels: Labels, value: number): void {
    this.series(name, 'gauge', labels).value = value;
  }

  /** Current value of a series (0 when absent). */
  get(name: string, labels: Labels = {}): number {
    return this.families.get(name)?.series.get(labelKey(labels))?.value ?? 0;
  }

  /** Sum over every series of a metric whose labels include `match`. */
  sum(name: string, match: Labels = {}): number {
    let total = 0;
    for (const s of this.families.get(name)?.series.values() ?? []) {
      if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
    }
    return total;
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, f] of this.families) {
      lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      for (const s of f.series.values()) lines.push(`${name}${formatLabels(s.labels)} ${s.value}`);
    }
    return lines.join('\n') + '\n';
  }

  private series(name: string, type: Family['type'], labels: Labels) {
    let f = this.families.get(name);
    if (!f) {
      f = { type, help: this.helps[name] ?? name, series: new Map() };
      this.families.set(name, f);
    }
    const key = labelKey(labels);
    let s = f.series.get(key);
    if (!s) {
      s = { labels, value: 0 };
      f.series.set(key, s);
    }
    return s;
  }
}

const labelKey = (l: Labels) =>
  Object.keys(l)
    .sort()
    .map((k) => `${k}=${l[k]}`)
    .join(',');
const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const formatLabels = (l: Labels) => {
  const keys = Object.keys(l);
  return keys.length ? `{${keys.map((k) => `${k}="${esc(l[k]!)}"`).join(',')}}` : '';
};

export const METRIC_HELP: Readonly<Record<string, string>> = {
  tributary_records_in_total: 'Records delivered to a pipeline',
  tributary_records_applied_total: 'Records whose effects are durable in every sink of the pipeline',
  tributary_dead_letters_total: 'Records sent to the dead letters',
  tributary_batches_total: 'Batches fetched per shard',
  tributary_checkpoints_total: 'Checkpoints written',
  tributary_trimmed_data_total: 'Times a shard was found trimmed past its checkpoint',
  tributary_iterator_expired_total: 'Shard iterators that expired and were re-acquired',
  tributary_read_throttled_total: 'GetRecords calls throttled',
  tributary_millis_behind: 'Milliseconds behind the tip of the shard at the last read',
  tributary_leases_held: 'Leases this worker holds',
  tributary_leases_lost_total: 'Leases lost to another worker or expiry',
  tributary_retries_total: 'Batches retried after user code or a sink failed',
  tributary_capacity_budget: 'Capacity units per second a table may use (provisioned x share, or configured)',
  tributary_capacity_rate: 'Current send rate under the budget after throttling (units per second)',
  tributary_capacity_consumed_total: 'Capacity units consumed, as DynamoDB reports them (estimated when it does not)',
  tributary_capacity_throttled_total: 'Requests or items throttled (throughput exceptions and unprocessed items)',
  tributary_capacity_wait_seconds_total: 'Seconds callers waited for capacity tokens',
};
