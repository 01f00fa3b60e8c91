import type { Clock, Timer } from '../core/clock.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

interface Totals {
  readonly in: number;
  readonly applied: number;
  readonly deadLettered: number;
  readonly throttled: number;
}

/**
 * One info line per interval (default 30 s) saying how the app is doing, for operators who read
 * logs rather than dashboards: records in, applied and dead-lettered since the last line, the
 * highest lag of the shards this worker reads, and the capacity requests throttled since the
 * last line.
 *
 * @example
 * ```ts
 * const progress = new ProgressLog(metrics, log, systemClock, 30_000);
 * progress.start(); // {"msg":"progress","recordsIn":1200,"applied":1200,"deadLettered":0,"maxLagMs":850,"throttled":0,...}
 * ```
 */
export class ProgressLog {
  private last: Totals = { in: 0, applied: 0, deadLettered: 0, throttled: 0 };
  private lastAt: number;
  private timer: Timer | undefined;

  constructor(
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly intervalMs: number,
  ) {
    this.lastAt = clock.now();
  }

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.lastAt = this.clock.now();
    this.timer = this.clock.setInterval(() => void this.report(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Logs the line now (the timer calls it). */
  async report(): Promise<void> {
    const m = this.metrics;
    const [inn, applied, dead, throttled, behind] = await Promise.all([
      m.sum('tributary_records_in_total'),
      m.sum('tributary_records_applied_total'),
      m.sum('tributary_dead_letters_total'),
      m.sum('tributary_capacity_throttled_total'),
      m.series('tributary_behind_seconds'),
    ]);
    const now: Totals = { in: inn, applied, deadLettered: dead, throttled };
    const at = this.clock.now();
    const maxLag = behind.reduce((a, s) => Math.max(a, s.value), -1);
    this.log.info('progress', {
      recordsIn: now.in - this.last.in,
      applied: now.applied - this.last.applied,
      deadLettered: now.deadLettered - this.last.deadLettered,
      maxLagMs: maxLag < 0 ? null : Math.round(maxLag * 1000),
      throttled: now.throttled - this.last.throttled,
      shards: behind.length,
      sinceMs: Math.round(at - this.lastAt),
    });
    this.last = now;
    this.lastAt = at;
  }
}
