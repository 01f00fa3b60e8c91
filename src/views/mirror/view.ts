import type { Effect, ItemEffect, PutEffect } from '../../core/effects.js';
import type { SinkEnv, WriteContext } from '../../core/sink.js';
import { keyRules, type KeyRule } from '../../core/key-rules.js';
import type { TableIO } from '../../core/table-io.js';
import type { KeyAttr, Provisioned, TableSpec } from '../../core/tables.js';
import { parseDuration } from '../../core/time.js';
import { TokenBucket } from '../../core/token-bucket.js';
import type { View } from '../../core/view.js';
import type { ImageNeeds } from '../../core/images.js';
import { TributaryError } from '../../core/errors.js';
import { governedTable, stagedEffects, type IamEnv, type Permission } from '../../core/iam.js';
import { SerialLanes, shardLane } from '../../core/serial-lanes.js';
import { checkViewTable } from '../check-table.js';
import {
  conditionalPut,
  latestPerKey,
  planMirrorWrite,
  type MirrorInput,
  type MirrorVersioning,
  type MirrorWrite,
} from './plan.js';
import { MIRROR_EXPIRES_ATTRIBUTE, MIRROR_VERSION_ATTRIBUTE, supersedes } from './version.js';

/** The planned write behind each staged effect, so that of two effects on one item the newer version wins. */
const staged = new WeakMap<ItemEffect, MirrorWrite>();

export interface MirrorOptions {
  /** The mirror table or tables (logical names); every change is applied to each. */
  readonly tables: string | readonly string[];
  /** The source table's partition key: mirrors have the source's key schema. */
  readonly partitionKey: KeyAttr;
  readonly sortKey?: KeyAttr;
  /**
   * How changes are ordered. `'changeTime'` (default): by the change's approximate creation time
   * and stream sequence number, kept in the hidden attribute `_tributary_version`.
   * `{ attribute }`: by a version attribute of the items (a number or string the application
   * increases on every write, and keeps increasing across a delete and a re-create).
   */
  readonly version?: 'changeTime' | { readonly attribute: string };
  /** Writes per second per mirror table (an item over 1 KB counts one per started KB). Default: unlimited. */
  readonly rateLimit?: number;
  /**
   * How long a tombstone outlives its delete (a duration like `'7d'`, or ms). It must be longer
   * than any delay after which an older change of the item can still arrive (the source's
   * retention, plus time to recover from a crash). Default `'7d'`.
   */
  readonly tombstoneTtl?: string | number;
  /** Conditional writes in flight per table. Default 16. */
  readonly concurrency?: number;
  /** Capacity of the mirror tables; on-demand when absent. */
  readonly provisioned?: Provisioned;
  /** Sink name in logs. Default `mirror:<first table>`. */
  readonly name?: string;
}

/** Counts of a mirror's conditional writes since it was created. */
export interface MirrorStats {
  /** Writes that applied (the change was newer than what the mirror held). */
  readonly applied: number;
  /** Writes whose condition failed: the mirror already held this change or a newer one. */
  readonly stale: number;
}

/** A mirror: a {@link View} of a table's changes, kept in one or more tables with the source's key schema. */
export interface MirrorView<T> extends View<MirrorInput<T>> {
  readonly mirrorTables: readonly string[];
  readonly partitionKey: KeyAttr;
  readonly sortKey?: KeyAttr;
  readonly versioning: MirrorVersioning;
  readonly stats: MirrorStats;
}

/**
 * A mirror of a table: applies every change to one or more mirror tables with last-writer-wins
 * by version, so that duplicates and out-of-order delivery (Kinesis, retries, replays) leave the
 * mirror equal to the source. Each change is a conditional PutItem that applies only when newer
 * than what the mirror holds; a failed condition means the mirror is already newer, and counts
 * as success.
 *
 * Mirror items carry hidden attributes: `_tributary_version` (with `version: 'changeTime'`), and
 * on deleted items `_tributary_deleted` and `_tributary_expires`. A delete leaves a *tombstone*
 * (key, version, `_tributary_deleted: true`, expiry for DynamoDB TTL on `_tributary_expires`)
 * rather than removing the item: otherwise an older put arriving after the delete would find
 * nothing to compare with and resurrect the item. Read mirrors with {@link visibleMirrorItem},
 * {@link getMirrored} or {@link queryMirror}, which hide tombstones and hidden attributes (a raw
 * Scan sees them).
 *
 * What to know:
 * - *By change time*, a version is the creation time then the stream sequence number. DynamoDB
 *   Streams gives whole seconds, and sequence numbers grow with each change of an item along its
 *   shard lineage, so changes of one item are totally ordered. Native "Kinesis Data Streams for
 *   DynamoDB" records carry milliseconds (or microseconds) and no sequence number: two changes of
 *   one item within one tick tie, and the first applied wins — prefer MICROSECOND precision or a
 *   version attribute there. {@link kinesisBridge} records carry the sequence number, so no ties.
 * - *By version attribute*, the application must increase it on every write, across a delete
 *   and re-create too (a re-created item with a version at or below its tombstone's is refused);
 *   a delete keeps the deleted item's version and wins over a put of that same version. Keep
 *   one type (numbers compare numerically, strings by code point; mixed types never compare).
 * - Tombstones expire by DynamoDB TTL on `_tributary_expires` (enable TTL on the mirror tables;
 *   their specs declare it). Once one is gone, a change older than the delete could resurrect
 *   the item, so `tombstoneTtl` must exceed the longest delay of a stale change: the stream's
 *   retention (Kinesis: 24 h by default, up to a year) plus recovery time.
 * - An item already in a mirror without a version (a backfill) is replaced by any change of it.
 * - A refused write still costs a write unit; duplicates within a batch are coalesced first.
 *
 * @example
 * ```ts
 * pipeline('users-mirror')
 *   .from(kinesisStream('users_changes', { decode: kinesisDynamoChanges<User>() }))
 *   .to(mirror<User>({ tables: ['users_eu', 'users_us'], partitionKey: { name: 'userId', type: 'S' }, rateLimit: 50 }))
 * ```
 */
export function mirror<T = Record<string, unknown>>(options: MirrorOptions): MirrorView<T> {
  return new Mirror<T>(options);
}

interface Target {
  readonly io: TableIO;
  readonly bucket?: TokenBucket;
}

class Mirror<T> implements MirrorView<T> {
  readonly name: string;
  /** Version conditions keep the newest change whatever order writes land in. */
  readonly commutative = true;
  readonly mirrorTables: readonly string[];
  readonly partitionKey: KeyAttr;
  readonly sortKey?: KeyAttr;
  readonly versioning: MirrorVersioning;
  /** Puts copy the new image; a delete reads its version from the old image when versions are an attribute. */
  readonly needs: ImageNeeds;
  private readonly counts = { applied: 0, stale: 0 };
  private readonly keys: readonly KeyRule[];
  private readonly versionAttribute: string;
  private readonly tombstoneTtlMs: number;
  private readonly concurrency: number;
  private readonly lanes = new SerialLanes();
  private targets: Target[] = [];

  constructor(private readonly options: MirrorOptions) {
    this.mirrorTables = typeof options.tables === 'string' ? [options.tables] : [...options.tables];
    if (this.mirrorTables.length === 0) throw new TributaryError('config.invalid', 'mirror: give at least one table');
    this.name = options.name ?? `mirror:${this.mirrorTables[0]}`;
    this.partitionKey = options.partitionKey;
    this.sortKey = options.sortKey;
    this.keys = keyRules(options.partitionKey, options.sortKey);
    const v = options.version ?? 'changeTime';
    this.versioning = v === 'changeTime' ? { kind: 'changeTime' } : { kind: 'attribute', attribute: v.attribute };
    this.needs = { newImage: true, oldImage: this.versioning.kind === 'attribute' };
    this.versionAttribute = v === 'changeTime' ? MIRROR_VERSION_ATTRIBUTE : v.attribute;
    if (this.keys.some((k) => k.name === this.versionAttribute))
      throw new TributaryError(
        'config.invalid',
        `mirror '${this.name}': the version attribute cannot be a key attribute`,
      );
    this.tombstoneTtlMs = parseDuration(options.tombstoneTtl ?? '7d');
    this.concurrency = Math.max(1, options.concurrency ?? 16);
    if (options.rateLimit !== undefined && !(options.rateLimit > 0))
      throw new TributaryError(
        'config.invalid',
        `mirror '${this.name}': rateLimit must be a positive number of writes per second`,
      );
  }

  get stats(): MirrorStats {
    return { ...this.counts };
  }

  tables(): readonly TableSpec[] {
    return this.mirrorTables.map((name) => ({
      name,
      partitionKey: this.partitionKey,
      ...(this.sortKey ? { sortKey: this.sortKey } : {}),
      ...(this.options.provisioned ? { provisioned: this.options.provisioned } : {}),
      ttlAttribute: MIRROR_EXPIRES_ATTRIBUTE,
    }));
  }

  /** DescribeTable at open; a version-conditioned PutItem per mirror table (tombstones are puts too), in both guarantees. */
  iam(env: IamEnv): readonly Permission[] {
    return this.mirrorTables.map((t) =>
      env.guarantee === 'exactly-once'
        ? stagedEffects(env.tableName(t), ['put'], true)
        : governedTable(env.tableName(t), 'dynamodb:PutItem'),
    );
  }

  async open(env: SinkEnv): Promise<void> {
    const rate = this.options.rateLimit;
    await Promise.all(
      this.mirrorTables.map((t) =>
        checkViewTable(env, `mirror '${this.name}'`, env.tableName(t), this.partitionKey, this.sortKey),
      ),
    );
    this.targets = this.mirrorTables.map((t) => ({
      io: env.io(env.tableName(t)),
      ...(rate ? { bucket: new TokenBucket({ rate }) } : {}),
    }));
  }

  write(outputs: readonly MirrorInput<T>[], ctx: WriteContext): Promise<void> {
    if (outputs.length === 0) return Promise.resolve();
    const tombstoneExpiresAt = Math.ceil((Date.now() + this.tombstoneTtlMs) / 1000);
    // Plan everything before sending anything: a change that can never apply fails this call alone.
    const planned = outputs.map((o) =>
      planMirrorWrite(o, { view: this.name, keys: this.keys, versioning: this.versioning, tombstoneExpiresAt }),
    );
    const writes = latestPerKey(planned);
    return this.lanes.run(shardLane(ctx.positions[0]), async () => {
      await Promise.all(this.targets.map((t) => this.applyAll(t, writes)));
    });
  }

  /**
   * Exactly-once: each mirror table's conditional put as an effect. A version-conditioned put is
   * idempotent (applied again, its condition fails), so it needs no applied marks; of two effects
   * on one item the newer version wins, as the condition would have it.
   */
  stage(outputs: readonly MirrorInput<T>[]): readonly Effect[] {
    const tombstoneExpiresAt = Math.ceil((Date.now() + this.tombstoneTtlMs) / 1000);
    const planned = outputs.map((o) =>
      planMirrorWrite(o, { view: this.name, keys: this.keys, versioning: this.versioning, tombstoneExpiresAt }),
    );
    const effects: Effect[] = [];
    for (const w of latestPerKey(planned)) {
      const put = conditionalPut(w, { partitionKey: this.partitionKey.name, versionAttribute: this.versionAttribute });
      for (const t of this.targets) {
        const e: PutEffect = {
          kind: 'put',
          table: t.io.table,
          id: w.keyString,
          key: w.key,
          item: w.item,
          units: w.units,
          idempotent: true,
          condition: {
            expression: put.ConditionExpression!,
            names: put.ExpressionAttributeNames,
            values: put.ExpressionAttributeValues,
            onFailure: 'stale',
          },
          wins: (earlier) => {
            const held = staged.get(earlier);
            return !held || supersedes({ version: held.version, deleted: held.isDelete }, w.version, w.isDelete);
          },
        };
        staged.set(e, w);
        effects.push(e);
      }
    }
    return effects;
  }

  private async applyAll(target: Target, writes: readonly MirrorWrite[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < writes.length) await this.apply(target, writes[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, writes.length) }, worker));
  }

  private async apply(target: Target, w: MirrorWrite): Promise<void> {
    await target.bucket?.acquire(w.units);
    try {
      await target.io.put(
        conditionalPut(w, { partitionKey: this.partitionKey.name, versionAttribute: this.versionAttribute }),
        w.units,
      );
      this.counts.applied++;
    } catch (e) {
      // The mirror holds this change or a newer one: nothing to do.
      if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
      this.counts.stale++;
    }
  }

  async flush(): Promise<void> {
    await this.lanes.idle();
  }
}
