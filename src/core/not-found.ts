import type { TributaryError } from './errors.js';

/**
 * True for the services' answer that a table, stream or shard does not exist
 * (`ResourceNotFoundException`, from DynamoDB, DynamoDB Streams and Kinesis alike).
 *
 * @example
 * ```ts
 * try { await ddb.send(new DeleteTableCommand({ TableName })); } catch (e) { if (!isNotFound(e)) throw e; }
 * ```
 */
export function isNotFound(e: unknown): boolean {
  return (e as Error | undefined)?.name === 'ResourceNotFoundException';
}

/**
 * Runs `call` and, when the resource it names does not exist, throws the error `missing` makes
 * (with the service's error as its cause) instead: a source, sink or view that opens on a missing
 * table or stream stops the app with a message that says which, and what to do. Other errors pass
 * through unchanged.
 *
 * @example
 * ```ts
 * await rethrowMissing(
 *   () => withRetry(() => kinesis.send(new DescribeStreamSummaryCommand({ StreamName }))),
 *   (cause) => new TributaryError('source.notFound', `Kinesis stream '${StreamName}' does not exist`, { cause }),
 * );
 * ```
 */
export async function rethrowMissing<T>(
  call: () => Promise<T>,
  missing: (cause: unknown) => TributaryError,
): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (isNotFound(e)) throw missing(e);
    throw e;
  }
}
