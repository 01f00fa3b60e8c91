import { DescribeTableCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import type { Effect } from '../../core/effects.js';
import { TributaryError } from '../../core/errors.js';
import { stagedEffects, type IamEnv, type IamResource, type Permission } from '../../core/iam.js';
import { rethrowMissing } from '../../core/not-found.js';
import type { SinkEnv, WriteContext } from '../../core/sink.js';
import type { TableSpec } from '../../core/tables.js';
import type { View } from '../../core/view.js';
import { SerialLanes, shardLane } from '../../core/serial-lanes.js';
import { writeUnits } from '../../sinks/table-writer.js';
import { withRetry } from '../../core/retry.js';
import { defaultEventId } from './event-id.js';
import { toItem, type StoredEvent } from './item.js';
import { eventId, eventKey, eventTime } from './keys.js';
import { resolveLayout, type EventTableLayout, type EventTableOptions, type ResolvedLayout } from './options.js';
import { periodTable, periodTablePattern } from './period.js';
import { currentSpecs, PK, SK } from './tables.js';

/** Where an event goes and what is stored: the logical table (its period's, when rotating) and the item's parts. */
export interface EventLocation<P> extends StoredEvent<P> {
  readonly table: string;
}

/** A time-bucketed event table: a view whose tables hold events by bucket, write shard and time. */
export interface EventTableView<E, P = E> extends View<E> {
  /** How events are laid out; what {@link replay} and {@link rotationPlan} need. */
  readonly layout: EventTableLayout;
  /** Where `event` is stored, without any I/O; throws `view.invalidEvent` for a bad time or id. */
  locate(event: E): EventLocation<P>;
}

/**
 * A time-bucketed event table as a view. Each event is put under partition key
 * `pk = ${bucketId}#${suffix}` (the suffix, 0..writeShards-1, is a hash of the event id, so a
 * retried event lands on the same partition) and sort key `sk = ${ISO time}#${eventId}`, so a
 * bucket's partitions sort by time. Puts are idempotent: the key is a function of the event, so
 * storing an event again (a retry, a replayed shard) overwrites it with itself. With `rotation`,
 * each event goes to the table of its period, `${table}_${period id}`. Events with an invalid
 * time fail with `view.invalidEvent`, items over 400 KB with `sink.itemTooLarge`, events whose
 * period table does not exist with `view.tableMissing`: the runner sends those to the dead letters.
 *
 * @example
 * ```ts
 * const clicks = eventTable<Click>({ table: 'clicks_log', time: (c) => c.at, id: (c) => c.clickId, bucket: '1h', writeShards: 4,
 *                                    rotation: { period: 'month', retention: 3 } });
 * pipeline('log-clicks').from(kinesisStream<Click>('clicks')).pipe(map((r) => r.value)).to(clicks)
 * ```
 */
export function eventTable<E, P = E>(options: EventTableOptions<E, P>): EventTableView<E, P> {
  return new EventTableSink<E, P>(options);
}

class EventTableSink<E, P> implements EventTableView<E, P> {
  readonly name: string;
  /** Events are put once per event id, so the order of writes does not matter. */
  readonly commutative = true;
  readonly layout: EventTableLayout;
  private readonly resolved: ResolvedLayout;
  private readonly lanes = new SerialLanes();
  private env: SinkEnv | undefined;

  constructor(private readonly options: EventTableOptions<E, P>) {
    this.resolved = resolveLayout(options);
    const { table, bucket, writeShards, rotation, provisioned } = options;
    this.layout = {
      table,
      bucket,
      writeShards,
      ...(rotation ? { rotation } : {}),
      ...(provisioned ? { provisioned } : {}),
    };
    this.name = `event-table:${table}`;
  }

  tables(now: Date = new Date()): readonly TableSpec[] {
    return currentSpecs(this.resolved, now);
  }

  /** BatchWriteItem (exactly-once: idempotent PutItems) on the table, or on every period's table when it rotates. */
  iam(env: IamEnv): readonly Permission[] {
    const { table, rotation } = this.resolved;
    const on: IamResource = rotation
      ? { type: 'tables', pattern: env.tableName(periodTablePattern(table, rotation.period)) }
      : { type: 'table', table: env.tableName(table) };
    return [
      env.guarantee === 'exactly-once'
        ? stagedEffects(on, ['put'], true)
        : { actions: ['dynamodb:DescribeTable', 'dynamodb:BatchWriteItem'], resource: on },
    ];
  }

  locate(event: E): EventLocation<P> {
    const { table, bucket, writeShards, rotation } = this.resolved;
    const ms = eventTime(this.options.time(event), table);
    const payload = this.options.payload ? this.options.payload(event) : (event as unknown as P);
    const id = eventId(this.options.id ? this.options.id(event) : defaultEventId(payload), table);
    const key = eventKey(ms, id, bucket, writeShards);
    return {
      ...key,
      id,
      time: new Date(ms),
      payload,
      table: rotation ? periodTable(table, ms, rotation.period) : table,
    };
  }

  async open(env: SinkEnv): Promise<void> {
    this.env = env;
    // A rotating table's periods come and go; only a fixed table can be checked up front.
    if (this.resolved.rotation) return;
    const physical = env.tableName(this.resolved.table);
    const d = await rethrowMissing(
      () => withRetry(() => env.clients.dynamodb.send(new DescribeTableCommand({ TableName: physical }))),
      (cause) => missing(physical, this.resolved.table, cause),
    );
    const keys = (d.Table?.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`);
    if (keys.join(',') !== `${PK}:HASH,${SK}:RANGE`) {
      throw new TributaryError(
        'config.invalid',
        `table '${physical}' has keys ${keys.join(', ')}; an event table needs ${PK} (partition) and ${SK} (sort), both strings`,
        { details: { table: physical, keys } },
      );
    }
  }

  async write(outputs: readonly E[], ctx: WriteContext): Promise<void> {
    const env = this.env;
    if (!env)
      throw new TributaryError('sink.notOpened', `event table '${this.resolved.table}' was written before open()`);
    if (outputs.length === 0) return;
    // Everything is checked before anything is sent: a bad event fails this call alone, and the runner isolates it.
    const byTable = new Map<string, Map<string, WriteRequest>>();
    for (const e of outputs) {
      const loc = this.locate(e);
      const item = toItem(loc, loc.table);
      const requests = byTable.get(loc.table) ?? byTable.set(loc.table, new Map()).get(loc.table)!;
      requests.set(`${loc.pk}|${loc.sk}`, { PutRequest: { Item: item } });
    }
    await this.lanes.run(shardLane(ctx.positions[0]), () =>
      Promise.all([...byTable].map(([logical, requests]) => this.putAll(env, logical, [...requests.values()]))),
    );
  }

  /** Exactly-once: each event's put as an effect; keyed by the event, it is idempotent and needs no applied marks. */
  stage(outputs: readonly E[]): readonly Effect[] {
    const env = this.env;
    if (!env)
      throw new TributaryError('sink.notOpened', `event table '${this.resolved.table}' was written before open()`);
    return outputs.map((e): Effect => {
      const loc = this.locate(e);
      const item = toItem(loc, loc.table);
      return {
        kind: 'put',
        table: env.tableName(loc.table),
        id: `${loc.pk}|${loc.sk}`,
        key: { [PK]: item[PK]!, [SK]: item[SK]! },
        item,
        units: writeUnits({ PutRequest: { Item: item } }),
        idempotent: true,
      };
    });
  }

  private async putAll(env: SinkEnv, logical: string, requests: WriteRequest[]): Promise<void> {
    const physical = env.tableName(logical);
    await rethrowMissing(
      () => env.io(physical).batchWrite(requests, writeUnits),
      (cause) => missing(physical, logical, cause),
    );
  }
}

function missing(physical: string, logical: string, cause: unknown): TributaryError {
  return new TributaryError(
    'view.tableMissing',
    `event table '${physical}' does not exist (create it, or run maintainRotation for a rotating table)`,
    { details: { table: physical, logical }, cause },
  );
}
