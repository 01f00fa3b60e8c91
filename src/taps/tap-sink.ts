import type { Observable } from 'rxjs';
import { map } from 'rxjs';
import type { Sink, SinkEnv, WriteContext } from '../core/sink.js';
import { createdAtMillis, type SourceRecord } from '../core/records.js';
import { TributaryError } from '../core/errors.js';
import type { AggregateResult, AggregateSpec } from '../operators/windows/aggregation.js';
import type { WindowEvent } from '../operators/windows/events.js';
import { WindowedAggregation } from '../operators/windows/windowed-aggregation.js';
import type { TapEnvelope, TapEvent } from './events.js';
import { TapFeed } from './feed.js';
import type { TapOptions } from './tap.js';
import type { TableSpec } from '../core/tables.js';
import { governedTable, type IamEnv, type Permission } from '../core/iam.js';
import { FinalsWriter } from './finals-writer.js';
import { SharedTapView, type TapSharing } from './shared-view.js';
import { TapShardStates } from './shard-states.js';

/** The default least time between two emissions of a tap's changes. */
const UPDATE_EVERY_MS = 250;
/** How often a quiet tap ticks: its watermark moves, and it sees the other workers' parts. */
const QUIET_TICK_MS = 1_000;

/** Late records a tap keeps in memory for its side output: the count is exact, the records the latest. */
const LATE_KEPT = 1_000;

/**
 * The sink of a tap's pipeline: each batch's records go into the tap's windowed aggregation
 * (per shard, so every shard keeps its own watermark), and the changes are published on the
 * tap's feed at most about every `updateEveryMs` (at once when the tap was quiet that long).
 *
 * In an app's runner, the tap is shared across workers (`SharedTapView`) and each shard's part of
 * it is durable (`TapShardStates`): a batch is acknowledged once its shard's state with it is in
 * the tap state table, and the shard's next owner goes on from there, so a crash, restart or
 * handoff neither loses nor doubles a record's part in the open windows.
 *
 * Late records (for windows already closed) go to the side output: counted in `progress`
 * events, and the latest kept in `late()`, never dropped silently.
 */
export class TapSink<R extends SourceRecord, A extends AggregateSpec<R>> implements Sink<R> {
  readonly name: string;
  readonly commutative = true;
  private readonly engine: WindowedAggregation<R, A>;
  readonly feed: TapFeed<AggregateResult<A>>;
  private timer: NodeJS.Timeout | undefined;
  private lateCount = 0;
  private readonly lateKept: WindowEvent<R, AggregateResult<A>>[] = [];
  private readonly lags = new Map<string, number>();
  private readonly known = new Set<string>();
  /** Shards this worker reads records of: its part of the windows. */
  private readonly reading = new Set<string>();
  private shared: SharedTapView<R, A> | undefined;
  private shards: TapShardStates | undefined;
  private finals: FinalsWriter | undefined;
  private ticking = false;
  /** A tick was asked for while one ran: run another when it ends. */
  private again = false;
  /** When the last tick with changes to show began (Date.now()): quiet ticks do not hold the next one back. */
  private lastTick = -Infinity;
  /** The tick asked for by a change, at the earliest `updateEveryMs` after the last. */
  private soon: NodeJS.Timeout | undefined;
  private readonly updateEveryMs: number;

  constructor(
    readonly tapName: string,
    private readonly opts: TapOptions<R, A>,
  ) {
    this.name = `tap:${tapName}`;
    if (opts.emit !== undefined && opts.emit !== 'update' && opts.emit !== 'final')
      throw new TributaryError(
        'config.invalid',
        `tap '${tapName}': emit must be 'update' or 'final', got '${String(opts.emit)}'`,
      );
    this.updateEveryMs = opts.updateEveryMs ?? UPDATE_EVERY_MS;
    const time =
      opts.time ??
      ((r: R) => {
        const t = createdAtMillis(r);
        if (t === undefined)
          throw new TributaryError(
            'config.invalid',
            `tap '${tapName}': a record has no stream time; give the tap a time function`,
          );
        return t;
      });
    this.engine = new WindowedAggregation<R, A>(
      {
        window: opts.window,
        time,
        ...(opts.key ? { key: opts.key } : {}),
        allowedLatenessMs: opts.allowedLatenessMs ?? 0,
        maxOutOfOrderMs: opts.maxOutOfOrderMs ?? 0,
        idleTimeoutMs: opts.idleTimeoutMs ?? 60_000,
        withStates: true,
      },
      opts.aggregate,
    );
    this.feed = new TapFeed<AggregateResult<A>>(() =>
      this.shared
        ? this.shared.snapshot()
        : {
            type: 'snapshot',
            values: this.engine.snapshot().map((s) => ({ window: s.window, key: s.key, value: s.value })),
            watermark: finite(this.engine.progress().watermark),
          },
    );
  }

  /** The table of final windows, when the tap has one (`tributary tables create` and `createAppTables` make it). */
  tables(): readonly TableSpec[] {
    return this.opts.table
      ? [{ name: this.opts.table, partitionKey: { name: 'key', type: 'S' }, sortKey: { name: 'window', type: 'S' } }]
      : [];
  }

  async open(env?: SinkEnv): Promise<void> {
    if (this.opts.table && env) this.finals = new FinalsWriter(env.io(env.tableName(this.opts.table)));
    this.timer ??= setInterval(() => this.tick(), Math.max(this.updateEveryMs, QUIET_TICK_MS));
    this.timer.unref();
  }

  /**
   * The records of a batch of one shard that are not in the tap's state yet: a shard's new owner
   * merges the shard's durable state in first, and skips what it covers. The tap's pipeline runs
   * it before any other operator.
   */
  fresh(records: readonly R[]): readonly R[] | Promise<readonly R[]> {
    return this.shards ? this.shards.fresh(records) : records;
  }

  async write(outputs: readonly R[], ctx: WriteContext): Promise<void> {
    const last = ctx.positions[ctx.positions.length - 1];
    if (last === undefined || outputs.length === 0) return;
    const shardId = last.shardId;
    this.known.add(shardId);
    this.reading.add(shardId);
    this.engine.add(shardId, outputs);
    const created = createdAtMillis(outputs[outputs.length - 1]!);
    if (created !== undefined) this.lags.set(shardId, Math.max(0, Date.now() - created));
    const durable = this.shards?.aggregated(shardId, last);
    // Shown at the next tick, an update period after the last at the earliest; and when batches
    // pile up behind the durable write, that write is made at once.
    this.tickSoon();
    if (this.shards?.pressed)
      this.shards.persist().catch((e: unknown) =>
        this.shared?.sharing.log.warn('tap state write failed; retrying at the next tick', {
          tap: this.tapName,
          error: e,
        }),
      );
    await durable;
  }

  /**
   * The source's shards as discovery lists them: a shard the tap has not seen a record of yet
   * holds the watermark back (until idle), so a slow reader's records are not taken for late.
   */
  knowShards(shardIds: Iterable<string>): void {
    for (const id of shardIds)
      if (!this.known.has(id)) {
        this.known.add(id);
        this.engine.addShard(id);
      }
  }

  /** A shard reached its end: it stops holding the watermark back. */
  endShard(shardId: string): void {
    this.engine.endShard(shardId);
  }

  /**
   * This worker no longer reads the shard (its lease was lost or handed over): its part of the
   * open windows is the next owner's, which goes on from the shard's durable state.
   */
  releaseShard(shardId: string): void {
    if (!this.reading.delete(shardId)) return;
    this.shards?.release(shardId);
    this.engine.removeShard(shardId);
    this.lags.delete(shardId);
  }

  /** The tap state table's actions: created at start if missing, written, read and queried each tick. */
  iam(env: IamEnv): readonly Permission[] {
    return [
      {
        actions: [
          'dynamodb:CreateTable',
          'dynamodb:DescribeTable',
          'dynamodb:PutItem',
          'dynamodb:GetItem',
          'dynamodb:Query',
        ],
        resource: { type: 'table', table: env.tableName(`${env.app}_taps`) },
      },
      ...(this.opts.table ? [governedTable(env.tableName(this.opts.table), 'dynamodb:BatchWriteItem')] : []),
    ];
  }

  /**
   * Shares the tap with the app's other workers through the state table: from now on each tick
   * publishes this worker's part and shows the merge of every worker's, so the tap's values are
   * those of all shards; and each shard's part is durable before its records are acknowledged.
   */
  share(sharing: TapSharing): void {
    this.shared = new SharedTapView(this.engine, this.opts, this.feed, sharing, this.tapName);
    this.shards = new TapShardStates({
      key: this.shared.key,
      states: sharing.states,
      worker: sharing.worker,
      log: sharing.log,
      partialOf: (shardId) => this.engine.partials([shardId]),
      watermark: () => finite(this.engine.progress().watermark),
      seed: (row) => {
        this.engine.mergePartials(row.partial);
        if (row.watermark !== null) this.engine.holdClosed(row.watermark);
      },
    });
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.soon);
    this.timer = undefined;
    this.soon = undefined;
    this.tick();
    this.feed.complete();
  }

  /** The tap's events from now on (a snapshot first), or after a resume token. */
  events(resume?: string): Observable<TapEnvelope<AggregateResult<A>>> {
    return this.feed.subscribe(resume);
  }

  /** Just the events, without their tokens. */
  values(): Observable<TapEvent<AggregateResult<A>>> {
    return this.events().pipe(map((e) => e.event));
  }

  /** The latest late records (the side output) and how many there were in all. */
  late(): { readonly count: number; readonly latest: readonly WindowEvent<R, AggregateResult<A>>[] } {
    return { count: this.lateCount, latest: [...this.lateKept] };
  }

  /** Makes the shards' states durable, moves the watermark and publishes what changed (the timer calls it). */
  tick(now = Date.now()): void {
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    void this.step(now)
      // A failed exchange with the state table, or write of finals, is tried again at the next tick.
      .catch((e: unknown) =>
        this.shared?.sharing.log.warn('tap step failed; retrying at the next tick', { tap: this.tapName, error: e }),
      )
      .finally(() => {
        this.ticking = false;
        if (this.again) {
          this.again = false;
          this.tickSoon();
        }
      });
  }

  /** Ticks an update period after the last tick began, or now if that has passed. */
  private tickSoon(): void {
    this.soon ??= setTimeout(
      () => {
        this.soon = undefined;
        this.tick();
      },
      Math.max(0, this.lastTick + this.updateEveryMs - Date.now()),
    );
  }

  private async step(now: number): Promise<void> {
    const events = this.engine.advance(now);
    if (events.length > 0) this.lastTick = now;
    for (const e of events) {
      if (e.type !== 'late') continue;
      this.lateCount++;
      this.lateKept.push(e);
      if (this.lateKept.length > LATE_KEPT) this.lateKept.shift();
    }
    const marks = this.shards?.marks() ?? {};
    const durable = this.shards?.persist();
    if (this.shared) {
      const finals = await this.shared.tick(now, { events, reading: this.reading, marks, late: this.lateCount });
      this.finals?.add(finals);
    } else this.publishLocal(events);
    await durable;
    await this.finals?.flush();
    if (this.lags.size > 0)
      this.feed.publish({ type: 'lag', shards: [...this.lags].map(([shardId, lagMs]) => ({ shardId, lagMs })) });
  }

  /** One worker, outside a runner: the engine's own events are the tap's. */
  private publishLocal(events: readonly WindowEvent<R, AggregateResult<A>>[]): void {
    for (const e of events) {
      if (e.type === 'late' || (e.type === 'update' && this.opts.emit === 'final')) continue;
      const v = { window: e.window, key: e.key, value: e.value };
      this.feed.publish(
        e.type === 'final' ? { type: 'final', final: true, ...v } : { type: 'update', final: false, ...v },
      );
      if (e.type === 'final') this.finals?.add([v]);
    }
    const p = this.engine.progress();
    this.feed.publish({
      type: 'progress',
      watermark: finite(p.watermark),
      shards: p.shards.map((s) => ({ shardId: s.shardId, watermark: finite(s.watermark), status: s.status })),
      late: this.lateCount,
    });
  }
}

const finite = (n: number): number | null => (Number.isFinite(n) ? n : null);
