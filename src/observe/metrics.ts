import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  METRICS,
  type CounterName,
  type GaugeName,
  type HistogramName,
  type LabelsOf,
  type MetricName,
} from './metric-defs.js';

/** How a {@link Metrics} is set up. */
export interface MetricsOptions {
  /**
   * The prom-client registry the metrics are registered in. Default a new registry per `Metrics`,
   * so that two runners in one process (or one test file) never collide. A registry holds one
   * runner's metrics only: registering a second runner's in it throws.
   */
  readonly registry?: Registry;
}

/**
 * A runner's metrics, on prom-client: every metric of {@link METRICS} is registered at
 * construction in the runner's own registry, which serves `/metrics` as prom-client does.
 * `get` and `sum` read counters and gauges back (tests, `tributary dev`'s progress line).
 *
 * prom-client hashes the label values on every `inc`, bound child (`counter.labels(...)`) or
 * not, so the runtime calls `inc` once per batch and never per record.
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * const runner = new Runner(app, { metrics: new Metrics({ registry }) });
 * http.createServer(async (_, res) => res.end(await registry.metrics())).listen(9464);
 * ```
 */
export class Metrics {
  /** The prom-client registry holding these metrics. */
  readonly registry: Registry;
  private readonly counters = new Map<MetricName, Counter>();
  private readonly gauges = new Map<MetricName, Gauge>();
  private readonly histograms = new Map<MetricName, Histogram>();

  constructor(opts: MetricsOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    const registers = [this.registry];
    for (const name of Object.keys(METRICS) as MetricName[]) {
      const def: (typeof METRICS)[MetricName] = METRICS[name];
      const common = { name, help: def.help, labelNames: [...def.labels], registers };
      if (def.type === 'counter') this.counters.set(name, new Counter(common));
      else if (def.type === 'gauge') this.gauges.set(name, new Gauge(common));
      else this.histograms.set(name, new Histogram({ ...common, buckets: [...def.buckets] }));
    }
  }

  /** Adds `by` (default 1) to a counter. */
  inc<N extends CounterName>(name: N, labels: LabelsOf<N> = {} as LabelsOf<N>, by = 1): void {
    this.counters.get(name)!.inc(labels, by);
  }

  /** Sets a gauge. */
  set<N extends GaugeName>(name: N, labels: LabelsOf<N>, value: number): void {
    this.gauges.get(name)!.set(labels, value);
  }

  /** Drops a gauge's series (a shard this worker no longer reads must not show its last lag forever). */
  remove<N extends GaugeName>(name: N, labels: LabelsOf<N>): void {
    this.gauges.get(name)!.remove(labels);
  }

  /** Records one observation in a histogram (seconds, for every histogram tributary declares). */
  observe<N extends HistogramName>(name: N, labels: LabelsOf<N>, value: number): void {
    this.histograms.get(name)!.observe(labels, value);
  }

  /** Current value of the series with exactly these labels (0 when absent). */
  async get<N extends CounterName | GaugeName>(name: N, labels: LabelsOf<N> = {} as LabelsOf<N>): Promise<number> {
    const want = Object.entries(labels);
    const values = await this.values(name);
    const same = values.find(
      (v) => Object.keys(v.labels).length === want.length && want.every(([k, x]) => v.labels[k] === x),
    );
    return same?.value ?? 0;
  }

  /** Sum over every series of a counter or gauge whose labels include `match`. */
  async sum<N extends CounterName | GaugeName>(name: N, match: LabelsOf<N> = {} as LabelsOf<N>): Promise<number> {
    const want = Object.entries(match);
    let total = 0;
    for (const v of await this.values(name)) if (want.every(([k, x]) => v.labels[k] === x)) total += v.value;
    return total;
  }

  /** Every series of a counter or gauge: its labels and value (the status page and progress lines read them). */
  async series(name: CounterName | GaugeName): Promise<readonly { labels: Record<string, string>; value: number }[]> {
    return (await this.values(name)).map((v) => ({
      labels: Object.fromEntries(Object.entries(v.labels).map(([k, x]) => [k, String(x)])),
      value: v.value,
    }));
  }

  private async values(name: CounterName | GaugeName) {
    const family = this.counters.get(name) ?? this.gauges.get(name)!;
    return (await family.get()).values;
  }
}
