import { wholeNumber } from './checks.js';

/** How watermarks follow event time. */
export interface WatermarkOptions {
  /**
   * Bounded out-of-orderness: a shard's watermark is the latest event time seen on it minus this,
   * so records up to this much older than the newest one of their shard are still on time.
   * Default 0.
   */
  readonly maxOutOfOrderMs?: number;
  /**
   * A shard without records for this long (measured with the `now` given to `advance`) is idle:
   * it stops holding the watermark back until it has records again, as Flink's `withIdleness`.
   * Without it, a shard that has no records (yet) holds the watermark where it is. Default: never idle.
   */
  readonly idleTimeoutMs?: number;
}

/** `active` shards hold the watermark back; `idle` and `ended` ones do not. */
export type ShardStatus = 'active' | 'idle' | 'ended';

/** Where one shard is in event time, for `progress` events. */
export interface ShardFrontier {
  readonly shardId: string;
  readonly status: ShardStatus;
  /** The latest event time seen on the shard; `-Infinity` before its first record. */
  readonly maxEventTime: number;
  /** `maxEventTime - maxOutOfOrderMs`: never moves back. `-Infinity` before the first record. */
  readonly watermark: number;
  /** Records seen on the shard. */
  readonly records: number;
  /** The `now` of the last `advance` at which the shard had had records (or was added). */
  readonly lastActiveAt: number | undefined;
}

interface ShardMark {
  maxEventTime: number;
  records: number;
  ended: boolean;
  idle: boolean;
  /** Records (or the shard itself) arrived since the last `advance`: it was active at that `now`. */
  touched: boolean;
  lastActiveAt: number | undefined;
}

/**
 * Event-time watermarks of one app over its shards. A shard's watermark is the latest event time
 * seen on it minus `maxOutOfOrderMs`; the app's watermark is the least watermark of the shards
 * that are neither ended nor idle, and never moves back. When no shard holds it (every shard
 * ended, idle or removed), it stays where it is: a resharding's child shards start after their
 * parents end, and a watermark that leapt to infinity meanwhile would make all their records late.
 *
 * No clock is read: time comes in as the `now` of {@link Watermarks.advance}.
 *
 * @example
 * ```ts
 * const marks = new Watermarks({ maxOutOfOrderMs: 5_000, idleTimeoutMs: 60_000 });
 * marks.observe('shard-1', 100_000);
 * marks.observe('shard-2', 90_000);
 * marks.advance(Date.now()); // 85_000: shard-2's 90_000 - 5_000
 * ```
 */
export class Watermarks {
  private readonly outOfOrderMs: number;
  private readonly idleTimeoutMs: number;
  private readonly shards = new Map<string, ShardMark>();
  private watermark = -Infinity;

  constructor(options: WatermarkOptions = {}) {
    this.outOfOrderMs = wholeNumber('maxOutOfOrderMs', options.maxOutOfOrderMs ?? 0, 0);
    this.idleTimeoutMs =
      options.idleTimeoutMs === undefined ? Infinity : wholeNumber('idleTimeoutMs', options.idleTimeoutMs, 1);
  }

  /** The app's watermark as of the last {@link advance}; `-Infinity` before any. */
  get current(): number {
    return this.watermark;
  }

  /**
   * Makes a shard known before its first record, so that it holds the watermark back (until it is
   * idle, when `idleTimeoutMs` is set). Adding a shard that is known, even ended, changes nothing.
   */
  addShard(shardId: string): void {
    this.mark(shardId);
  }

  /** A record with event time `eventTime` was read from `shardId` (added if unknown; active again if idle). */
  observe(shardId: string, eventTime: number): void {
    const m = this.mark(shardId);
    if (eventTime > m.maxEventTime) m.maxEventTime = eventTime;
    m.records += 1;
    m.touched = true;
    m.idle = false;
  }

  /** The shard has no more records (Kinesis SHARD_END, a finished scan segment): it stops holding the watermark back. */
  endShard(shardId: string): void {
    this.mark(shardId).ended = true;
  }

  /** Forgets a shard (its lease moved to another worker): it stops holding the watermark back. */
  removeShard(shardId: string): void {
    this.shards.delete(shardId);
  }

  /**
   * Takes over a shard's frontier from another worker's partial state: its latest event time
   * becomes the later of the two, and it stays ended if either side saw it end.
   */
  restore(shardId: string, maxEventTime: number, ended: boolean): void {
    const m = this.mark(shardId);
    if (maxEventTime > m.maxEventTime) m.maxEventTime = maxEventTime;
    m.ended ||= ended;
  }

  /** Ends the input: the watermark goes to `+Infinity`, which closes every window. */
  finish(): number {
    this.watermark = Infinity;
    return this.watermark;
  }

  /**
   * Recomputes the app's watermark at processing time `now` (epoch ms, the caller's clock): marks
   * shards idle that had no records for `idleTimeoutMs`, then takes the least watermark of the
   * active ones, never less than before.
   */
  advance(now: number): number {
    let least = Infinity;
    let holders = 0;
    for (const m of this.shards.values()) {
      if (m.touched || m.lastActiveAt === undefined) {
        m.lastActiveAt = now;
        m.touched = false;
      }
      m.idle = now - m.lastActiveAt >= this.idleTimeoutMs;
      if (m.ended || m.idle) continue;
      holders += 1;
      least = Math.min(least, m.maxEventTime - this.outOfOrderMs);
    }
    if (holders > 0 && least > this.watermark) this.watermark = least;
    return this.watermark;
  }

  /** Each known shard's frontier, by shard id. */
  frontier(): ShardFrontier[] {
    return [...this.shards.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([shardId, m]) => ({
        shardId,
        status: m.ended ? 'ended' : m.idle ? 'idle' : 'active',
        maxEventTime: m.maxEventTime,
        watermark: m.maxEventTime - this.outOfOrderMs,
        records: m.records,
        lastActiveAt: m.lastActiveAt,
      }));
  }

  private mark(shardId: string): ShardMark {
    let m = this.shards.get(shardId);
    if (!m) {
      m = { maxEventTime: -Infinity, records: 0, ended: false, idle: false, touched: true, lastActiveAt: undefined };
      this.shards.set(shardId, m);
    }
    return m;
  }
}
