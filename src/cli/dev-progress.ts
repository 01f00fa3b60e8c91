import type { Clients } from '../core/clients.js';
import type { AppDef } from '../core/pipeline.js';
import type { Metrics } from '../observe/metrics.js';

/**
 * The counters `tributary dev` prints, such that `recordsIn = applied + deadLetters` once the
 * runner has drained: records that reached a pipeline (once per pipeline) plus payloads that a
 * source's decoder rejected before any pipeline saw them.
 */
export interface Counts {
  readonly recordsIn: number;
  readonly applied: number;
  readonly deadLetters: number;
}

/** Reads the record counters of a runner's metrics. */
export async function counts(m: Metrics): Promise<Counts> {
  const [recordsIn, rejectedByDecoders, applied, deadLetters] = await Promise.all([
    m.sum('tributary_records_in_total'),
    m.sum('tributary_dead_letters_total', { stage: 'decode' }),
    m.sum('tributary_records_applied_total'),
    m.sum('tributary_dead_letters_total'),
  ]);
  return { recordsIn: recordsIn + rejectedByDecoders, applied, deadLetters };
}

/**
 * Prints, every `everyMs`, a progress line from the runner's metrics and then the app's
 * `dev.report(...)` output, indented. A tick is skipped while the previous report is still running.
 *
 * @example
 * ```ts
 * const progress = new DevProgress(app, runner.metrics, clients, (l) => console.log(l)).start(3_000);
 * // ...
 * progress.stop();
 * await progress.print('final');
 * ```
 */
export class DevProgress {
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private printing: Promise<void> | undefined;

  constructor(
    private readonly def: AppDef,
    private readonly metrics: Metrics,
    private readonly clients: Clients,
    private readonly out: (line: string) => void,
  ) {}

  start(everyMs: number): this {
    this.timer = setInterval(() => {
      if (!this.printing) this.printing = this.print().finally(() => (this.printing = undefined));
    }, everyMs);
    return this;
  }

  /** Stops the ticks and waits for a report under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.printing;
  }

  /** Prints the progress line, then the report unless `report: false`. */
  async print(label?: string, opts: { readonly report?: boolean } = {}): Promise<void> {
    const c = await counts(this.metrics);
    const secs = ((Date.now() - this.startedAt) / 1000).toFixed(1).padStart(5);
    this.out(`[${label ?? `${secs}s`}] records in ${c.recordsIn}, applied ${c.applied}, dead letters ${c.deadLetters}`);
    // A backfill's own line (its log lines are below dev's log level): items scanned over every worker.
    const scanned = await this.metrics.sum('tributary_backfill_scanned_items');
    if (scanned > 0) this.out(`  backfill: ${scanned} items scanned`);
    const report = this.def.dev?.report;
    if (!report || opts.report === false) return;
    try {
      const text = await withTimeout(report({ clients: this.clients, tableName: (n) => n }), REPORT_TIMEOUT_MS);
      if (text === undefined) this.out(`  (report failed: no answer within ${REPORT_TIMEOUT_MS} ms)`);
      else for (const line of text.trimEnd().split('\n')) this.out(`  ${line}`);
    } catch (e) {
      this.out(`  (report failed: ${(e as Error).message ?? String(e)})`);
    }
  }
}

const REPORT_TIMEOUT_MS = 5_000;

/** What `p` resolves to, or undefined when it takes longer than `ms`. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
