/**
 * Every error tributary raises is a `TributaryError` with a namespaced code, whose fault it is,
 * and whether retrying can help.
 *
 * @example
 * ```ts
 * try { await runner.start(); } catch (e) {
 *   if (isTributaryError(e, 'source.')) console.error(e.code, e.details);
 * }
 * ```
 */
export type ErrorCode =
  | 'config.invalid'
  | 'decode.json'
  | 'decode.schema'
  | 'decode.aggregation'
  | 'decode.binary'
  | 'source.trimmedData'
  | 'source.notFound'
  | 'source.expiredIterator'
  | 'pipeline.userCode'
  | 'operator.lookupFailed'
  | 'sink.itemTooLarge'
  | 'sink.invalidItem'
  | 'sink.rejected'
  | 'view.invalidIncrement'
  | 'view.updateFailed'
  | 'bucket.invalidTime'
  | 'view.invalidKey'
  | 'view.missingImage'
  | 'view.invalidVersion'
  | 'view.invalidEvent'
  | 'view.tableMissing'
  | 'lease.lost'
  | 'runtime.shutdownDeadline'
  | 'runtime.failFast'
  | 'cli.usage'
  | 'testing.emulator'
  | 'testing.throttleProxy';

export type Fault = 'client' | 'server';

export class TributaryError<D extends object = Record<string, unknown>> extends Error {
  override readonly name = 'TributaryError';
  readonly code: ErrorCode;
  /** `client` when the input or configuration is at fault; `server` when a service or the runtime is. */
  readonly fault: Fault;
  /** True when the same operation may succeed if tried again. */
  readonly retryable: boolean;
  readonly details: D;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { fault?: Fault; retryable?: boolean; details?: D; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.fault = opts.fault ?? 'client';
    this.retryable = opts.retryable ?? false;
    this.details = (opts.details ?? {}) as D;
  }
}

/** True when `e` is a TributaryError whose code starts with `prefix` (e.g. `'decode.'`). */
export function isTributaryError(e: unknown, prefix = ''): e is TributaryError {
  return e instanceof TributaryError && e.code.startsWith(prefix);
}

/** A short, single-line description of any thrown value, for dead letters and logs. */
export function describeError(e: unknown): { code: string; message: string } {
  if (e instanceof TributaryError) return { code: e.code, message: e.message };
  if (e instanceof Error) return { code: e.name || 'Error', message: e.message };
  return { code: 'NonError', message: String(e) };
}
