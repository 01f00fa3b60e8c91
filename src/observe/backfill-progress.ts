import cliProgress from 'cli-progress';
import type { SourceEvent } from '../core/source.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

type BackfillEvent = Extract<SourceEvent, { type: 'backfill' }>;

/**
 * Reports a backfill's progress: a log line per report (`backfill progress`: items scanned over
 * every worker, of about how many, percent, items per second, ETA, segments done), the
 * `tributary_backfill_scanned_items` gauge, and, where asked (`tributary run` and `dev` when
 * stdout is a terminal), a progress bar drawn with cli-progress.
 *
 * The total is DescribeTable's ItemCount, which DynamoDB refreshes about every six hours: the
 * percent is an estimate until the last segment is done, and never shows 100 before.
 *
 * @example
 * ```ts
 * const progress = new BackfillProgress(log, metrics, { bar: process.stdout.isTTY });
 * progress.report({ type: 'backfill', source: 'photos', shardId: '', scanned: 5_000, total: 20_000, segmentsDone: 1, segments: 4 });
 * ```
 */
export class BackfillProgress {
  private readonly last = new Map<string, { at: number; scanned: number; rate?: number }>();
  private readonly bars = new Map<string, cliProgress.SingleBar>();

  constructor(
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly opts: { readonly bar?: boolean; readonly now?: () => number } = {},
  ) {}

  report(e: BackfillEvent): void {
    const now = (this.opts.now ?? Date.now)();
    const prev = this.last.get(e.source);
    const dt = prev ? (now - prev.at) / 1000 : 0;
    const rate = prev && dt > 0 ? Math.max(0, (e.scanned - prev.scanned) / dt) : prev?.rate;
    this.last.set(e.source, { at: now, scanned: e.scanned, ...(rate === undefined ? {} : { rate }) });
    const done = e.segmentsDone === e.segments;
    const total = done ? e.scanned : Math.max(e.total ?? 0, e.scanned);
    const percent = done ? 100 : total > 0 ? Math.min(99.9, (100 * e.scanned) / total) : 0;
    const eta = done ? 0 : rate && rate > 0 && total > e.scanned ? Math.round((total - e.scanned) / rate) : undefined;
    this.metrics.set('tributary_backfill_scanned_items', { source: e.source }, e.scanned);
    this.log.info(done ? 'backfill done' : 'backfill progress', {
      source: e.source,
      scanned: e.scanned,
      ...(e.total === undefined ? {} : { total: e.total }),
      percent: Math.round(percent * 10) / 10,
      ...(rate === undefined ? {} : { itemsPerSecond: Math.round(rate) }),
      ...(eta === undefined ? {} : { etaSeconds: eta }),
      segmentsDone: e.segmentsDone,
      segments: e.segments,
    });
    if (this.opts.bar) this.draw(e.source, e.scanned, total, done, rate);
  }

  /** Stops every bar (the runner stopped). */
  stop(): void {
    for (const b of this.bars.values()) b.stop();
    this.bars.clear();
  }

  private draw(source: string, scanned: number, total: number, done: boolean, rate: number | undefined): void {
    let bar = this.bars.get(source);
    if (!bar) {
      bar = new cliProgress.SingleBar(
        {
          format: `backfill ${source} [{bar}] {percentage}% | {value}/{total} items | {speed} items/s | ETA {eta_formatted}`,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(Math.max(1, total), scanned, { speed: '-' });
      this.bars.set(source, bar);
    }
    bar.setTotal(Math.max(1, total));
    bar.update(scanned, { speed: rate === undefined ? '-' : String(Math.round(rate)) });
    if (done) {
      bar.stop();
      this.bars.delete(source);
    }
  }
}
