import type { Effect } from '../../core/effects.js';
import type { ImageNeeds } from '../../core/images.js';
import { TributaryError } from '../../core/errors.js';
import { governedTable, stagedEffects, type IamEnv, type Permission } from '../../core/iam.js';
import type { SinkEnv, WriteContext } from '../../core/sink.js';
import type { TableSpec } from '../../core/tables.js';
import type { View } from '../../core/view.js';
import { checkViewTable } from '../check-table.js';
import { applyUpdates } from './apply.js';
import { FlushScheduler, type CounterStats } from './flusher.js';
import { resolveFlush, type CounterViewOptions, type ResolvedFlush } from './options.js';
import { compilePlan, prepare, type CounterPlan } from './prepare.js';

/** A counter view: a {@link View} of `ADD` counters, with what it has written so far. */
export interface CounterView<R> extends View<R> {
  /** Logical table name. */
  readonly table: string;
  /** The incremented attributes, in declaration order. */
  readonly fields: readonly string[];
  /** Flushes, `UpdateItem` calls and records so far (since the runner opened the view). */
  readonly stats: Readonly<CounterStats>;
}

/**
 * A view of counters: each record adds to the numeric attributes of the item(s) its `key`
 * function names (`UpdateItem ADD`). Increments are summed per key across the batches of a flush
 * (so 10,000 clicks on 50 pages become 50 updates) and a batch is acknowledged only once the
 * flush holding its increments is durable: the checkpoint never passes an increment that is not
 * written. Flushes run one at a time; increments that arrive during a flush go to the next. A
 * flush goes when `flush.maxRecords` records or `flush.maxKeys` keys are buffered, when every
 * active shard has `flush.maxBatchesPerShard` batches waiting on it (the runner lets it fetch no
 * more), or `flush.maxDelayMs` after the oldest buffered increment (or after the previous flush).
 * So coalescing spans at most what the runner keeps in flight: `maxBatchesInFlight` batches per
 * shard (raise it, or the source's batch size, to coalesce more).
 *
 * Keys and increments are checked when a batch is written, before anything is buffered: a key
 * that is not exactly the table's key attributes, each valid by DynamoDB's key rules for its
 * declared type (non-empty, within the key size limits), fails the batch with `view.invalidKey`,
 * an increment that is not a safe number (a `NumberValue`, NaN, beyond ±`Number.MAX_SAFE_INTEGER`)
 * with `view.invalidIncrement`, and the runner isolates the record. An update that fails for good
 * at flush time (`view.updateFailed`, e.g. an attribute holding a string) fails only the batches
 * that added to that key; their other keys are remembered as applied, so the runner's retry does
 * not count them again.
 *
 * By default delivery is at-least-once: after a crash, the records after the last checkpoint are
 * counted again, so a counter can over-count by the increments of those records (never
 * under-count). In a pipeline with `guarantee: 'exactly-once'` the runner commits the increments
 * itself, with applied marks on each counter item, and no record is counted twice (see the
 * README's Guarantees section and docs/exactly-once.md).
 *
 * @example
 * ```ts
 * pipeline('page-views')
 *   .from(kinesisStream<Click>('clicks'))
 *   .to(counterView<KinesisRecord<Click>>({
 *     table: 'page_views', partitionKey: 'page', sortKey: 'minute',
 *     key: r => ({ page: r.value.page, minute: bucket(r.value.at, '1m') }),
 *     add: { views: 1, bytes: r => r.value.bytes },
 *   }))
 * ```
 */
export function counterView<R>(options: CounterViewOptions<R>): CounterView<R> {
  return new CounterViewSink<R>(options);
}

class CounterViewSink<R> implements CounterView<R> {
  readonly name: string;
  /** Increments add up whatever order they land in, so the runner lets them coalesce across batches. */
  readonly commutative = true;
  /** `decrementOnRemove: true` reads both images: a modify moves counts from the old key to the new. */
  readonly needs?: ImageNeeds;
  readonly table: string;
  readonly fields: readonly string[];
  private readonly plan: CounterPlan<R>;
  private flushOpts: ResolvedFlush;
  private scheduler: FlushScheduler | undefined;
  private physical: string | undefined;
  private readonly noStats: CounterStats = { flushes: 0, updates: 0, records: 0, writes: 0, failedWrites: 0 };

  constructor(private readonly options: CounterViewOptions<R>) {
    this.plan = compilePlan(options);
    this.flushOpts = resolveFlush(options.flush);
    this.table = options.table;
    this.name = `counter:${options.table}`;
    this.fields = this.plan.fields;
    if (options.decrementOnRemove === true) this.needs = { oldImage: true, newImage: true };
  }

  /** DescribeTable at open; ADD updates (UpdateItem), committed by the exactly-once committer or flushed by the view. */
  iam(env: IamEnv): readonly Permission[] {
    const table = env.tableName(this.table);
    return [
      env.guarantee === 'exactly-once' ? stagedEffects(table, ['add']) : governedTable(table, 'dynamodb:UpdateItem'),
    ];
  }

  get stats(): Readonly<CounterStats> {
    return this.scheduler?.stats ?? this.noStats;
  }

  tables(): readonly TableSpec[] {
    const [partitionKey, sortKey] = this.plan.attrs;
    return [
      {
        name: this.table,
        partitionKey: partitionKey!,
        ...(sortKey ? { sortKey } : {}),
        ...(this.options.provisioned ? { provisioned: this.options.provisioned } : {}),
      },
    ];
  }

  async open(env: SinkEnv): Promise<void> {
    const physical = env.tableName(this.table);
    // The table must exist with the declared key schema: then checking keys at write time is exact.
    await checkViewTable(env, `counter view '${this.table}'`, physical, this.plan.attrs[0]!, this.plan.attrs[1]);
    this.physical = physical;
    const io = env.io(physical);
    // A shard stops at the runner's window: flushing then is what lets it go on.
    this.flushOpts = resolveFlush(this.options.flush, env.maxBatchesInFlight);
    const concurrency = this.flushOpts.concurrency;
    this.scheduler = new FlushScheduler(
      this.fields,
      (updates) => applyUpdates(io, physical, updates, concurrency),
      this.flushOpts,
    );
  }

  write(outputs: readonly R[], ctx: WriteContext): Promise<void> {
    if (!this.scheduler)
      return Promise.reject(
        new TributaryError('sink.notOpened', `counter view '${this.table}' was written before it was opened`),
      );
    if (outputs.length === 0) return Promise.resolve();
    const origin = { pipeline: ctx.pipeline, positions: ctx.positions };
    let prepared;
    try {
      prepared = prepare(this.plan, outputs);
    } catch (e) {
      this.scheduler.rejected(origin);
      return Promise.reject(e);
    }
    return this.scheduler.add(prepared.sums, prepared.records, origin);
  }

  /**
   * Exactly-once: the increments of the outputs as effects, summed per key (the runner coalesces
   * them further across batches and commits them with applied marks instead of flushing them here).
   */
  stage(outputs: readonly R[]): readonly Effect[] {
    if (!this.physical)
      throw new TributaryError('sink.notOpened', `counter view '${this.table}' was written before it was opened`);
    const { sums } = prepare(this.plan, outputs);
    const effects: Effect[] = [];
    for (const [id, e] of sums) {
      const add: Record<string, number> = {};
      let any = false;
      e.sums.forEach((v, i) => {
        if (v === 0) return;
        add[this.fields[i]!] = v;
        any = true;
      });
      if (any) effects.push({ kind: 'add', table: this.physical, id, key: e.key, add });
    }
    return effects;
  }

  async flush(): Promise<void> {
    await this.scheduler?.flushAll();
  }

  async close(): Promise<void> {
    await this.scheduler?.flushAll();
    this.scheduler?.close();
  }
}
