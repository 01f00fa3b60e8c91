import type { OperatorFunction } from 'rxjs';
import { TributaryError } from './errors.js';
import type { ImageNeeds } from './images.js';
import type { SourceRecord } from './records.js';
import type { Sink } from './sink.js';
import type { StreamSource } from './source.js';
import type { RuntimeSettings } from './runtime-settings.js';

/** How often a record's effects are applied; see {@link PipelineOptions.guarantee}. */
export type Guarantee = 'at-least-once' | 'exactly-once';

export interface PipelineOptions {
  /**
   * `'at-least-once'` (default): after a crash, the records after the last checkpoint are applied
   * again. `'exactly-once'`: every sink must be a DynamoDB view or table writer (they plan
   * {@link Sink.stage} effects); the effects of a range of a shard commit in DynamoDB transactions
   * together with the pipeline's applied-through mark for that shard, fenced by the lease, so a
   * replay, a retry or a worker that lost its lease never applies a record twice. Costs twice the
   * write units per item written (transactions), and a mark write per shard per commit.
   */
  readonly guarantee?: Guarantee;
  /** Stop the shard on the first failing record instead of sending it to the dead letters. Default false. */
  readonly failFast?: boolean;
  /** Attempts of a whole batch before it is bisected to isolate a failing record. Default 2. */
  readonly batchAttempts?: number;
  /**
   * Images of DynamoDB changes the pipeline's own operators read (its sinks declare theirs). Checked
   * at start against the source's stream view type. Default: none.
   */
  readonly needs?: ImageNeeds;
  /**
   * Retries of one sink call that fails for a transient reason (throttling, a 5xx, a reset
   * connection) before its records go to the dead letters as `sink.retriesExhausted`. Default
   * unlimited: nothing is dropped while a table is merely slow.
   */
  readonly maxRetries?: number;
  /**
   * Age of a record (since it entered the stream) past which a sink call failing for a transient
   * reason stops retrying, and its records go to the dead letters as `sink.retriesExhausted`.
   * Records with no creation time (a table scan) have no age. Default unlimited.
   */
  readonly maxRecordAgeMs?: number;
  /**
   * Most dead letters the pipeline may write before it stops as with `failFast`
   * (`runtime.deadLetterBudget`): a typo in a view's key function then stops the app instead of
   * dead-lettering every record. Default none.
   */
  readonly deadLetterBudget?: DeadLetterBudget;
}

/**
 * A share of a pipeline's recent records that may go to the dead letters.
 *
 * @example
 * ```ts
 * pipeline('clicks').from(clicks).with({ deadLetterBudget: { share: 0.5, window: 100 } })
 * ```
 */
export interface DeadLetterBudget {
  /** Largest share (0 to 1) of the window's records that may be dead letters; more stops the pipeline. */
  readonly share: number;
  /**
   * How many of the pipeline's most recent records (all shards together) the share is taken over.
   * Counted in records, not time, so a quiet hour does not reset it. Default 100.
   */
  readonly window?: number;
}

/** A declared pipeline: a source, RxJS operators applied to each batch, and sinks. */
export interface PipelineDef<R extends SourceRecord = SourceRecord, O = unknown> {
  readonly name: string;
  readonly source: StreamSource<R>;
  readonly operators: readonly OperatorFunction<unknown, unknown>[];
  readonly sinks: readonly Sink<O>[];
  readonly options: PipelineOptions;
}

/** Builder returned by `pipeline(name)`; see {@link pipeline}. */
export class PipelineBuilder<R extends SourceRecord = SourceRecord, O = R> {
  constructor(
    readonly name: string,
    private readonly source?: StreamSource<R>,
    private readonly operators: readonly OperatorFunction<unknown, unknown>[] = [],
    private readonly options: PipelineOptions = {},
  ) {}

  /** Sets the source; records of its shards flow through the pipeline in per-shard order. */
  from<R2 extends SourceRecord>(source: StreamSource<R2>): PipelineBuilder<R2, R2> {
    return new PipelineBuilder<R2, R2>(this.name, source, [], this.options);
  }

  /** Appends RxJS operators, applied to each batch as `from(batch.records).pipe(...)`. */
  pipe<A>(op1: OperatorFunction<O, A>): PipelineBuilder<R, A>;
  pipe<A, B>(op1: OperatorFunction<O, A>, op2: OperatorFunction<A, B>): PipelineBuilder<R, B>;
  pipe<A, B, C>(
    op1: OperatorFunction<O, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
  ): PipelineBuilder<R, C>;
  pipe<A, B, C, D>(
    op1: OperatorFunction<O, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
    op4: OperatorFunction<C, D>,
  ): PipelineBuilder<R, D>;
  pipe<A, B, C, D, E>(
    op1: OperatorFunction<O, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
    op4: OperatorFunction<C, D>,
    op5: OperatorFunction<D, E>,
  ): PipelineBuilder<R, E>;
  pipe(...ops: OperatorFunction<never, unknown>[]): PipelineBuilder<R, unknown>;
  pipe(...ops: OperatorFunction<never, unknown>[]): PipelineBuilder<R, unknown> {
    return new PipelineBuilder<R, unknown>(
      this.name,
      this.source,
      [...this.operators, ...(ops as unknown as OperatorFunction<unknown, unknown>[])],
      this.options,
    );
  }

  /** Sets options such as `failFast`. */
  with(options: PipelineOptions): PipelineBuilder<R, O> {
    validateOptions(this.name, options);
    return new PipelineBuilder<R, O>(this.name, this.source, this.operators, { ...this.options, ...options });
  }

  /** Ends the pipeline in one or more sinks. */
  to(...sinks: Sink<O>[]): PipelineDef<R, O> {
    if (!this.source)
      throw new TributaryError('config.invalid', `pipeline '${this.name}': call .from(source) before .to(...)`, {
        details: { pipeline: this.name },
      });
    if (sinks.length === 0)
      throw new TributaryError('config.invalid', `pipeline '${this.name}': at least one sink is required`, {
        details: { pipeline: this.name },
      });
    return { name: this.name, source: this.source, operators: this.operators, sinks, options: this.options };
  }
}

/**
 * Starts declaring a pipeline. The name is a stable identity: checkpoints are keyed by it.
 *
 * @example
 * ```ts
 * pipeline('orders-by-customer')
 *   .from(dynamodbTable<Order>('orders'))
 *   .pipe(filter(c => c.kind !== 'remove'), map(c => put({ customerId: c.newImage!.customerId, orderId: c.newImage!.id })))
 *   .to(tableWriter('orders_by_customer'))
 * ```
 */
export function pipeline(name: string): PipelineBuilder<never, never> {
  validateName(name, 'pipeline');
  return new PipelineBuilder<never, never>(name);
}

/** A dead-letter destination; see the sinks module. */
export interface DeadLetterTarget {
  readonly tableName: string;
}

/** Hooks an app can export to the dev loop: traffic to generate and a report to print. */
export interface DevHooks {
  /** Writes traffic to the app's sources; gets the same clients as the app. Stops when `signal` aborts. */
  readonly traffic?: (ctx: {
    clients: import('./clients.js').Clients;
    tableName: (n: string) => string;
    signal: AbortSignal;
  }) => Promise<void>;
  /** Prints what the app produced. */
  readonly report?: (ctx: {
    clients: import('./clients.js').Clients;
    tableName: (n: string) => string;
  }) => Promise<string>;
  /** Tables the app's sources read; `tributary dev` creates them (with streams). */
  readonly tables?: readonly import('./tables.js').TableSpec[];
  readonly streams?: readonly { readonly name: string; readonly shards: number }[];
}

export interface AppDef {
  readonly name: string;
  readonly pipelines: readonly PipelineDef[];
  /** Tables the app needs besides its views' (e.g. its source tables). */
  readonly tables: readonly import('./tables.js').TableSpec[];
  readonly deadLetters: DeadLetterTarget;
  readonly leaseTable: string;
  /** How the app runs where it is deployed (timings, capacity, HTTP server); see {@link RuntimeSettings}. */
  readonly runtime: RuntimeSettings;
  readonly dev?: DevHooks;
}

export interface AppOptions {
  /** Tables the app needs besides its views' own, e.g. source tables with their streams. */
  readonly tables?: readonly import('./tables.js').TableSpec[];
  /** Table of dead letters. Default `${name}_dead_letters`. */
  readonly deadLetterTable?: string;
  /** Lease/checkpoint table. Default `${name}_leases`. */
  readonly leaseTable?: string;
  /** How the app runs where it is deployed: lease and checkpoint timings, capacity budgets, HTTP port. */
  readonly runtime?: RuntimeSettings;
  readonly dev?: DevHooks;
}

/**
 * Declares an app: a named set of pipelines run together. The name keys the app's leases.
 *
 * @example
 * ```ts
 * export default app('shop', [ordersByCustomer, clicksPerMinute]);
 * ```
 */
export function app(
  name: string,
  pipelines: readonly PipelineDef<never, never>[] | readonly PipelineDef[],
  options: AppOptions = {},
): AppDef {
  validateName(name, 'app');
  const seen = new Set<string>();
  for (const p of pipelines) {
    if (seen.has(p.name))
      throw new TributaryError('config.invalid', `app '${name}': duplicate pipeline name '${p.name}'`, {
        details: { app: name, pipeline: p.name },
      });
    seen.add(p.name);
  }
  return {
    name,
    pipelines: pipelines as readonly PipelineDef[],
    tables: options.tables ?? [],
    deadLetters: { tableName: options.deadLetterTable ?? `${name}_dead_letters` },
    leaseTable: options.leaseTable ?? `${name}_leases`,
    runtime: options.runtime ?? {},
    dev: options.dev,
  };
}

function validateOptions(pipeline: string, o: PipelineOptions): void {
  const bad = (what: string) =>
    new TributaryError('config.invalid', `pipeline '${pipeline}': ${what}`, { details: { pipeline } });
  if (o.maxRetries !== undefined && !(Number.isInteger(o.maxRetries) && o.maxRetries >= 0))
    throw bad(`maxRetries must be a whole number ≥ 0, got ${o.maxRetries}`);
  if (o.maxRecordAgeMs !== undefined && !(o.maxRecordAgeMs > 0))
    throw bad(`maxRecordAgeMs must be > 0, got ${o.maxRecordAgeMs}`);
  if (o.guarantee !== undefined && o.guarantee !== 'at-least-once' && o.guarantee !== 'exactly-once')
    throw bad(`guarantee must be 'at-least-once' or 'exactly-once', got ${String(o.guarantee)}`);
  const b = o.deadLetterBudget;
  if (b && !(b.share >= 0 && b.share < 1)) throw bad(`deadLetterBudget.share must be in [0, 1), got ${b.share}`);
  if (b?.window !== undefined && !(Number.isInteger(b.window) && b.window > 0 && b.window <= 1_000_000))
    throw bad(`deadLetterBudget.window must be a whole number of records in 1…1,000,000, got ${b.window}`);
}

function validateName(name: string, what: string): void {
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name))
    throw new TributaryError(
      'config.invalid',
      `invalid ${what} name '${name}': use letters, digits, _ . - (at most 100)`,
      { details: { name } },
    );
}
