import { describeError, TributaryError } from './errors.js';
import { currentRetryLimits } from './retry-limits.js';
import { sleep } from './time.js';

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

/**
 * True for errors that may succeed when retried: throttling, 5xx, network resets, and
 * `TributaryError`s marked `retryable`.
 *
 * @example
 * ```ts
 * isTransient(Object.assign(new Error('slow down'), { name: 'ThrottlingException' })); // true
 * ```
 */
export function isTransient(e: unknown): boolean {
  if (e instanceof TributaryError) return e.retryable;
  if (!(e instanceof Error)) return false;
  const err = e as Error & { code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (TRANSIENT.has(err.name) || (err.code && TRANSIENT.has(err.code))) return true;
  if (err.$retryable) return true;
  const status = err.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

/** True for throttling specifically (read or write limits exceeded). */
export function isThrottle(e: unknown): boolean {
  const n = (e as Error | undefined)?.name;
  return (
    n === 'ProvisionedThroughputExceededException' || n === 'ThrottlingException' || n === 'LimitExceededException'
  );
}

/** Full-jitter exponential backoff: a random delay in [0, min(cap, base × 2^attempt)] milliseconds. */
export function backoff(attempt: number, baseMs = 50, capMs = 5_000): number {
  return Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
}

/** How long to wait between attempts: see {@link backoff}. */
export interface BackoffOptions {
  /** Ceiling of the first wait, doubled after each attempt. Default 50 ms. */
  readonly baseMs?: number;
  /** Largest ceiling a wait may reach. Default 5,000 ms. */
  readonly capMs?: number;
}

/** Options of {@link withRetry}. */
export interface RetryOptions extends BackoffOptions {
  /** Most calls, the first included. Default Infinity: sinks retry until the call succeeds, so nothing is dropped. */
  readonly maxAttempts?: number;
  /** Once aborted, the wait between attempts ends and the last error is thrown. */
  readonly signal?: AbortSignal;
  /** Hears each error that is about to be retried, with the attempt that failed (0 for the first). */
  readonly onRetry?: (e: unknown, attempt: number) => void;
  /** Which errors are worth another attempt. Default {@link isTransient}. */
  readonly retryable?: (e: unknown) => boolean;
}

/**
 * Calls `fn` until it succeeds or fails with an error that is not retryable, waiting a
 * full-jitter backoff between attempts. The code base's one retry loop: the "send what is left"
 * loops ({@link retryUnprocessed}) run on it too. Inside a pipeline's sink write, the pipeline's
 * limits ({@link withRetryLimits}) apply as well: past them it throws `sink.retriesExhausted`.
 *
 * @example
 * ```ts
 * const d = await withRetry(() => ddb.send(new DescribeTableCommand({ TableName })), { maxAttempts: 5 });
 * ```
 */
export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const max = opts.maxAttempts ?? Infinity;
  const retryable = opts.retryable ?? isTransient;
  const limits = currentRetryLimits();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!retryable(e) || attempt + 1 >= max || opts.signal?.aborted) throw e;
      const left = (limits?.deadline ?? Infinity) - Date.now();
      if (attempt >= (limits?.maxRetries ?? Infinity) || left <= 0) throw retriesExhausted(e, attempt + 1);
      opts.onRetry?.(e, attempt);
      await sleep(Math.min(backoff(attempt, opts.baseMs, opts.capMs), left), opts.signal);
    }
  }
}

function retriesExhausted(last: unknown, attempts: number): TributaryError {
  const { code, message } = describeError(last);
  return new TributaryError(
    'sink.retriesExhausted',
    `gave up after ${attempts} attempts (maxRetries or maxRecordAgeMs): ${code}: ${message}`,
    { details: { attempts }, cause: last },
  );
}

/** Thrown inside {@link retryUnprocessed} to ask for another round; never escapes it (no attempt limit). */
// eslint-disable-next-line no-restricted-syntax -- a signal between two functions of this file, never raised to a caller
const UNFINISHED = new Error('items left unprocessed');

/**
 * Sends `items`, then again whatever the service handed back unprocessed (BatchWriteItem's
 * unprocessed items, BatchGetItem's unprocessed keys, PutRecords' failed records), with backoff
 * between rounds, until nothing is left. A partial success is the service's way of throttling,
 * so it is retried without limit, like a throttling error.
 *
 * @example
 * ```ts
 * await retryUnprocessed(requests, async (pending) => {
 *   const out = await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
 *   return out.UnprocessedItems?.[table];
 * });
 * ```
 */
export async function retryUnprocessed<T>(
  items: T[],
  send: (pending: T[]) => Promise<T[] | undefined>,
  opts: BackoffOptions & Pick<RetryOptions, 'signal'> = {},
): Promise<void> {
  let pending = items;
  if (pending.length === 0) return;
  await withRetry(
    async () => {
      pending = (await send(pending)) ?? [];
      if (pending.length > 0) throw UNFINISHED;
    },
    { ...opts, retryable: (e) => e === UNFINISHED },
  ).catch((e: unknown) => {
    // Aborted between two rounds: the caller hears why, not this file's internal signal.
    throw e === UNFINISHED ? (opts.signal?.reason as Error) : e;
  });
}
