import type { Observable } from 'rxjs';
import { map } from 'rxjs';
import type { Sink, WriteContext } from '../core/sink.js';
import { createdAtMillis, type SourceRecord } from '../core/records.js';
import { TributaryError } from '../core/errors.js';
import type { AggregateResult, AggregateSpec } from '../operators/windows/aggregation.js';
import type { WindowEvent } from '../operators/windows/events.js';
import { WindowedAggregation } from '../operators/windows/windowed-aggregation.js';
import type { TapEnvelope, TapEvent } from './events.js';
import { TapFeed } from './feed.js';
import type { TapOptions } from './tap.js';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { SinkEnv } from '../core/sink.js';
import type { TableIO } from '../core/table-io.js';
import type { TableSpec } from '../core/tables.js';
import type { TapValue } from './events.js';
import { governedTable, type IamEnv, type Permission } from '../core/iam.js';
import type { Logger } from '../observe/log.js';
import type { TapStateTable, WorkerTapState } from './state-table.js';
import type { TapPartial } from '../operators/windows/partials.js';

/** How long a worker keeps publishing a window it closed, for the others' merge of its final. */
const FINALS_KEPT_MS = 60_000;

/** Where a tap's workers meet: the state table, this worker's name, and when another's state is stale. */
export interface TapSharing {
  readonly states: TapStateTable;
  readonly app: string;
  readonly worker: string;
  /** A worker's state older than this is left out (the worker is gone; its shards' new owner reads them). */
  readonly staleMs: number;
  /** Where failed exchanges with the state table (retried at the next tick) are reported. */
  readonly log: Logger;
}

/** Late records a tap keeps in memory for its side output: the count is exact, the records the latest. */
const LATE_KEPT = 1_000;

/**
 * The sink of a tap's pipeline: each batch's records go into the tap's windowed aggregation
 * (per shard, so every shard keeps its own watermark), and every `updateEveryMs` the changes
 * are published on the tap's feed. A batch is acknowledged once aggregated: a tap is a live
 * view in memory, and after a restart it starts again from the shards' checkpoints.
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
  /** Shards this worker has read records of: its part of the windows. */
  private readonly reading = new Set<string>();
  private sharing: TapSharing | undefined;
  private ticking = false;
  private readonly recentFinals = new Map<string, WorkerTapState['finals'][number] & { at: number }>();
  /** Finals already published (global windows and keys), kept as long as a worker may still publish them. */
  private readonly published = new Map<string, number>();
  private readonly lastValues = new Map<string, string>();
  private lastSnapshot: { window: { start: number; end: number }; key: string; value: AggregateResult<A> }[] = [];
  private lastWatermark: number | null = null;
  private finalsIO: TableIO | undefined;
  /** Finals published this tick, for the table. */
  private toWrite: TapValue<AggregateResult<A>>[] = [];

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
      this.sharing
        ? { type: 'snapshot', values: this.lastSnapshot, watermark: this.lastWatermark }
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
    if (this.opts.table && env) this.finalsIO = env.io(env.tableName(this.opts.table));
    this.timer ??= setInterval(() => this.tick(), this.opts.updateEveryMs ?? 1_000);
    this.timer.unref();
  }

  async write(outputs: readonly R[], ctx: WriteContext): Promise<void> {
    const shardId = ctx.positions[0]?.shardId;
    if (shardId === undefined || outputs.length === 0) return;
    this.known.add(shardId);
    this.reading.add(shardId);
    this.engine.add(shardId, outputs);
    const last = createdAtMillis(outputs[outputs.length - 1]!);
    if (last !== undefined) this.lags.set(shardId, Math.max(0, Date.now() - last));
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

  /** The tap state table's actions: created at start if missing, written and queried each tick. */
  iam(env: IamEnv): readonly Permission[] {
    return [
      {
        actions: ['dynamodb:CreateTable', 'dynamodb:DescribeTable', 'dynamodb:PutItem', 'dynamodb:Query'],
        resource: { type: 'table', table: env.tableName(`${env.app}_taps`) },
      },
      ...(this.opts.table ? [governedTable(env.tableName(this.opts.table), 'dynamodb:BatchWriteItem')] : []),
    ];
  }

  /**
   * Shares the tap with the app's other workers through the state table: from now on each tick
   * publishes this worker's part and shows the merge of every worker's, so the tap's values are
   * those of all shards.
   */
  share(sharing: TapSharing): void {
    this.sharing = sharing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
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

  /** Moves the watermark and publishes what changed (the timer calls it). */
  tick(now = Date.now()): void {
    if (this.ticking) return;
    this.ticking = true;
    void this.step(now)
      // A failed exchange with the state table, or write of finals, is tried again at the next tick.
      .catch((e: unknown) =>
        this.sharing?.log.warn('tap step failed; retrying at the next tick', { tap: this.tapName, error: e }),
      )
      .finally(() => (this.ticking = false));
  }

  private async step(now: number): Promise<void> {
    const events = this.engine.advance(now);
    for (const e of events) {
      if (e.type !== 'late') continue;
      this.lateCount++;
      this.lateKept.push(e);
      if (this.lateKept.length > LATE_KEPT) this.lateKept.shift();
    }
    if (this.sharing) await this.publishShared(now, events);
    else this.publishLocal(events);
    await this.writeFinals();
    if (this.lags.size > 0)
      this.feed.publish({ type: 'lag', shards: [...this.lags].map(([shardId, lagMs]) => ({ shardId, lagMs })) });
  }

  /** One worker: the engine's own events are the tap's. */
  private publishLocal(events: readonly WindowEvent<R, AggregateResult<A>>[]): void {
    for (const e of events) {
      if (e.type === 'late' || (e.type === 'update' && this.opts.emit === 'final')) continue;
      const v = { window: e.window, key: e.key, value: e.value };
      this.feed.publish(
        e.type === 'final' ? { type: 'final', final: true, ...v } : { type: 'update', final: false, ...v },
      );
    }
    const p = this.engine.progress();
    this.feed.publish({
      type: 'progress',
      watermark: finite(p.watermark),
      shards: p.shards.map((s) => ({ shardId: s.shardId, watermark: finite(s.watermark), status: s.status })),
      late: this.lateCount,
    });
  }

  /**
   * Several workers: publish this worker's part (its shards' open windows, its watermark and the
   * windows it closed lately with their states), read every worker's, and show their merge. A
   * window is final once every live worker's watermark has passed it: each worker's watermark
   * already waits for the shards the others read, and for the listed shards nobody reads yet.
   */
  private async publishShared(now: number, events: readonly WindowEvent<R, AggregateResult<A>>[]): Promise<void> {
    const { states, app, worker, staleMs } = this.sharing!;
    for (const e of events)
      if (e.type === 'final' && e.states)
        this.recentFinals.set(`${e.windowId}|${e.key}`, {
          start: e.window.start,
          end: e.window.end,
          key: e.key,
          states: e.states as Record<string, unknown>,
          at: now,
        });
    for (const [k, f] of this.recentFinals) if (now - f.at > FINALS_KEPT_MS) this.recentFinals.delete(k);
    const mine: WorkerTapState & { watermark: number | null } = {
      worker,
      at: Date.now(),
      partial: this.engine.partials(this.reading),
      finals: [...this.recentFinals.values()].map(({ at: _at, ...f }) => f),
      watermark: finite(this.engine.progress().watermark),
    };
    const key = `${app}#${this.tapName}`;
    await states.put(key, mine);
    const all = (await states.all(key)).filter(
      (s) => s.worker === worker || Date.now() - s.at < staleMs,
    ) as (WorkerTapState & {
      watermark: number | null;
    })[];
    // The others' shards hold this worker's watermark back too, so it never closes a window early.
    for (const s of all)
      if (s.worker !== worker) this.engine.mergePartials({ ...(s.partial as TapPartial), cells: [] });

    // The merge: every worker's open cells and recent finals, closed at the least of their watermarks.
    const slack = this.opts.maxOutOfOrderMs ?? 0;
    const merged = this.freshEngine();
    const definition = this.engine.definition;
    merged.mergePartials(
      ...all.map((s) => ({
        ...(s.partial as TapPartial),
        shards: [
          {
            shardId: `worker:${s.worker}`,
            maxEventTime: s.watermark === null ? null : s.watermark + slack,
            ended: false,
          },
        ],
      })),
      { version: 1, definition, shards: [], cells: all.flatMap((s) => s.finals) },
    );
    const closing = merged.advance(now);
    const updates = this.opts.emit !== 'final';
    const snapshot = merged.snapshot();
    for (const c of snapshot) {
      const id = `${c.windowId}|${c.key}`;
      const json = JSON.stringify(c.value);
      if (this.lastValues.get(id) === json) continue;
      this.lastValues.set(id, json);
      if (updates) this.feed.publish({ type: 'update', final: false, window: c.window, key: c.key, value: c.value });
    }
    for (const e of closing) {
      if (e.type !== 'final') continue;
      const id = `${e.windowId}|${e.key}`;
      this.lastValues.delete(id);
      if (this.published.has(id)) continue;
      this.published.set(id, now);
      this.feed.publish({ type: 'final', final: true, window: e.window, key: e.key, value: e.value });
      this.toWrite.push({ window: e.window, key: e.key, value: e.value });
    }
    for (const [id, at] of this.published) if (now - at > 2 * FINALS_KEPT_MS + staleMs) this.published.delete(id);
    this.lastSnapshot = snapshot.map((c) => ({ window: c.window, key: c.key, value: c.value }));
    const p = merged.progress();
    this.lastWatermark = finite(p.watermark);
    const local = this.engine.progress().shards;
    this.feed.publish({
      type: 'progress',
      watermark: this.lastWatermark,
      shards: [
        ...local
          .filter((s) => this.reading.has(s.shardId))
          .map((s) => ({ shardId: s.shardId, watermark: finite(s.watermark), status: s.status })),
        ...all
          .filter((s) => s.worker !== worker)
          .flatMap((s) =>
            ((s.partial as TapPartial).shards ?? []).map((sh) => ({
              shardId: sh.shardId,
              watermark: sh.maxEventTime === null ? null : sh.maxEventTime - slack,
              status: sh.ended ? 'ended' : `read by ${s.worker}`,
            })),
          ),
      ],
      late: this.lateCount,
    });
  }

  /** Puts this tick's finals in the tap's table (through the table's governed I/O, retried there). */
  private async writeFinals(): Promise<void> {
    const finals = this.toWrite;
    this.toWrite = [];
    if (!this.finalsIO || finals.length === 0) return;
    try {
      await this.writeBatch(finals);
    } catch (e) {
      this.toWrite.unshift(...finals);
      throw e;
    }
  }

  private async writeBatch(finals: readonly TapValue<AggregateResult<A>>[]): Promise<void> {
    await this.finalsIO!.batchWrite(
      finals.map((f) => ({
        PutRequest: {
          Item: marshall(
            {
              ...(f.value as object),
              key: f.key,
              window: `${f.window.start}-${f.window.end}`,
              start: f.window.start,
              end: f.window.end,
            },
            { removeUndefinedValues: true, convertClassInstanceToMap: true },
          ),
        },
      })),
    );
  }

  /** An engine of the same definition, for a merge. */
  private freshEngine(): WindowedAggregation<R, A> {
    return new WindowedAggregation<R, A>(
      {
        window: this.opts.window,
        time: () => 0,
        maxOutOfOrderMs: this.opts.maxOutOfOrderMs ?? 0,
        allowedLatenessMs: this.opts.allowedLatenessMs ?? 0,
      },
      this.opts.aggregate,
    );
  }
}

const finite = (n: number): number | null => (Number.isFinite(n) ? n : null);
