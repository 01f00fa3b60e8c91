import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * How long the transient failures of a pipeline's sink writes may be retried (the pipeline's
 * `maxRetries` and `maxRecordAgeMs`). Either may be absent: then that limit does not apply.
 */
export interface RetryLimits {
  /** Retries of one call after its first attempt. */
  readonly maxRetries?: number;
  /** Epoch milliseconds past which a failed call is not retried (the oldest record's creation + `maxRecordAgeMs`). */
  readonly deadline?: number;
}

/**
 * The limits of the sink write under way. A scope rather than an argument: the pipeline sets them
 * around its call to a sink, and every retry loop that call starts ({@link withRetry}: TableIO's
 * calls, unprocessed items, PutRecords) honours them, without each sink and view passing them on.
 */
const scope = new AsyncLocalStorage<RetryLimits>();

/**
 * Runs `fn` with retry limits: any {@link withRetry} loop started inside it (its promises and
 * timers included) gives up with `sink.retriesExhausted` once a limit is reached.
 *
 * @example
 * ```ts
 * await withRetryLimits({ maxRetries: 3 }, () => sink.write(outputs, ctx));
 * ```
 */
export function withRetryLimits<T>(limits: RetryLimits, fn: () => T): T {
  return scope.run(limits, fn);
}

/** The limits of the sink write under way, if any. */
export function currentRetryLimits(): RetryLimits | undefined {
  return scope.getStore();
}
