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
      },
      opts.aggregate,
    );
    this.feed = new TapFeed<AggregateResult<A>>(() => ({
      type: 'snapshot',
      values: this.engine.snapshot().map((s) => ({ window: s.window, key: s.key, value: s.value })),
      watermark: finite(this.engine.progress().watermark),
    }));
  }

  async open(): Promise<void> {
    this.timer ??= setInterval(() => this.tick(), this.opts.updateEveryMs ?? 1_000);
    this.timer.unref();
  }

  async write(outputs: readonly R[], ctx: WriteContext): Promise<void> {
    const shardId = ctx.positions[0]?.shardId;
    if (shardId === undefined || outputs.length === 0) return;
    this.known.add(shardId);
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
    const events = this.engine.advance(now);
    const updates = this.opts.emit !== 'final';
    for (const e of events) {
      if (e.type === 'late') {
        this.lateCount++;
        this.lateKept.push(e);
        if (this.lateKept.length > LATE_KEPT) this.lateKept.shift();
        continue;
      }
      if (e.type === 'update' && !updates) continue;
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
    if (this.lags.size > 0)
      this.feed.publish({ type: 'lag', shards: [...this.lags].map(([shardId, lagMs]) => ({ shardId, lagMs })) });
  }
}

const finite = (n: number): number | null => (Number.isFinite(n) ? n : null);
