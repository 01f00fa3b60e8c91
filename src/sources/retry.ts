import { backoff, sleep } from '../core/time.js';

const TRANSIENT = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'LimitExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'KMSThrottlingException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'TransactionInProgressException',
]);

/** True for errors that may succeed when retried: throttling, 5xx, network resets. */
export function isTransient(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const err = e as Error & { code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (TRANSIENT.has(err.name) || (err.code && TRANSIENT.has(err.code))) return true;
  if (err.$retryable) return true;
  const status = err.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

/** True for throttling specifically (read limits exceeded). */
export function isThrottle(e: unknown): boolean {
  const n = (e as Error | undefined)?.name;
  return (
    n === 'ProvisionedThroughputExceededException' || n === 'ThrottlingException' || n === 'LimitExceededException'
  );
}

/**
 * Calls `fn` until it succeeds or fails with a non-transient error, with full-jitter backoff.
 * `maxAttempts` Infinity retries forever (sinks: nothing is dropped).
 */
export async function withRetry<T>(
  fn: () => Promise<T>,
  opts: { maxAttempts?: number; signal?: AbortSignal; onRetry?: (e: unknown, attempt: number) => void } = {},
): Promise<T> {
  const max = opts.maxAttempts ?? Infinity;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransient(e) || attempt + 1 >= max || opts.signal?.aborted) throw e;
      opts.onRetry?.(e, attempt);
      await sleep(backoff(attempt, 50, 5_000), opts.signal);
    }
  }
}
