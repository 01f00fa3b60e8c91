import type { Clock } from '../core/clock.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

/** How an {@link OutageReporter} reports. */
export interface OutageReporterOptions {
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Time of the summary window. */
  readonly clock: Clock;
  /** Least time between two warnings about one endpoint and operation. Default 30,000 ms. */
  readonly summaryIntervalMs?: number;
}

/** One call that an attempt belongs to: where it went and what it did. */
export interface AttemptTarget {
  /** Service as the SDK names its client (`DynamoDBClient`). */
  readonly service: string;
  /** Scheme, host and port the attempt went to. */
  readonly endpoint: string;
  /** The command (`GetRecordsCommand`). */
  readonly operation: string;
}

interface Outage {
  /** Failed attempts since the last warning. */
  unreported: number;
  /** Failed attempts since the outage began. */
  total: number;
  readonly since: number;
  lastWarned: number;
  lastError: string;
}

/**
 * Makes outages of AWS services visible: the first failed attempt of a call to an endpoint and
 * operation is a warning at once, later ones a warning with their count at most once per
 * summary interval, and the first success after them an info line. Every failed attempt is
 * counted in `tributary_aws_failed_attempts_total`. Fed by the runner's client middleware, which
 * sees every attempt, the SDK's own retries included.
 *
 * @example
 * ```ts
 * const outages = new OutageReporter({ log, metrics, clock: systemClock });
 * outages.failed({ service: 'DynamoDBClient', endpoint: 'http://127.0.0.1:8000', operation: 'PutItemCommand' }, err);
 * ```
 */
export class OutageReporter {
  private readonly open = new Map<string, Outage>();
  private readonly intervalMs: number;

  constructor(private readonly opts: OutageReporterOptions) {
    this.intervalMs = opts.summaryIntervalMs ?? 30_000;
  }

  /** An attempt got no answer (refused, reset, timed out) or a server error. */
  failed(target: AttemptTarget, error: unknown): void {
    const errorName = nameOf(error);
    this.opts.metrics.inc('tributary_aws_failed_attempts_total', {
      service: target.service,
      operation: target.operation,
      error: errorName,
    });
    const key = keyOf(target);
    const now = this.opts.clock.now();
    const o = this.open.get(key);
    if (!o) {
      this.open.set(key, { unreported: 0, total: 1, since: now, lastWarned: now, lastError: errorName });
      this.opts.log.warn('AWS call failed; retrying', { ...target, error });
      return;
    }
    o.total++;
    o.unreported++;
    o.lastError = errorName;
    if (now - o.lastWarned < this.intervalMs) return;
    this.opts.log.warn('AWS call still failing', {
      ...target,
      failedAttempts: o.unreported,
      failingForMs: Math.round(now - o.since),
      error,
    });
    o.unreported = 0;
    o.lastWarned = now;
  }

  /** The outage open longest: what fails, and since when (the reporter's clock); undefined when none is open. */
  oldest(): { readonly target: string; readonly since: number; readonly error: string } | undefined {
    let out: { target: string; since: number; error: string } | undefined;
    for (const [target, o] of this.open)
      if (!out || o.since < out.since) out = { target, since: o.since, error: o.lastError };
    return out;
  }

  /** An attempt got an answer: ends an outage of its endpoint and operation, if one was open. */
  succeeded(target: AttemptTarget): void {
    if (this.open.size === 0) return;
    const key = keyOf(target);
    const o = this.open.get(key);
    if (!o) return;
    this.open.delete(key);
    this.opts.log.info('AWS call recovered', {
      ...target,
      failedAttempts: o.total,
      failedForMs: Math.round(this.opts.clock.now() - o.since),
      lastError: o.lastError,
    });
  }
}

const keyOf = (t: AttemptTarget) => `${t.endpoint} ${t.operation}`;

function nameOf(e: unknown): string {
  if (!(e instanceof Error)) return 'unknown';
  const code = (e as { code?: unknown }).code;
  // Node's socket errors are all named Error; their code (ECONNREFUSED) is what tells them apart.
  return e.name === 'Error' && typeof code === 'string' ? code : e.name;
}
