import type { AttributeValue, WriteRequest } from '@aws-sdk/client-dynamodb';
import type { Effect } from '../../core/effects.js';
import { unmarshallImage } from '../../core/numbers.js';
import { TributaryError } from '../../core/errors.js';
import { itemWrites, type IamEnv, type Permission } from '../../core/iam.js';
import type { DynamoChange } from '../../core/records.js';
import type { SinkEnv, WriteContext } from '../../core/sink.js';
import type { TableIO } from '../../core/table-io.js';
import type { KeyAttr, TableSpec } from '../../core/tables.js';
import { SerialLanes, shardLane } from '../../core/serial-lanes.js';
import { writeUnits } from '../../sinks/table-writer.js';
import type { IndexView, IndexViewOptions, IndexViewProjectFnOptions, IndexViewStats, Simplify } from './options.js';
import { checkViewTable } from '../check-table.js';
import { buildRow, planIndexChange, type IndexDef } from './row.js';

type BaseKeys<T> = readonly (keyof T & string)[];

/**
 * An index (projection) view: keeps a table keyed differently from its source — the inverted
 * index of a many-to-many relation, a table of orders by customer — equal to what `key` and
 * `project` make of each base item. Feed it a table's changes (the stream must carry
 * NEW_AND_OLD_IMAGES); filter them with RxJS operators first if only some items belong.
 *
 * An insert puts the row (key attributes plus projection); a remove deletes it; a modify that
 * changes a key attribute deletes the old row and puts the new one; a modify that leaves key and
 * projection unchanged writes nothing. Writes go out with BatchWriteItem, the last write of a key
 * within a batch winning, in order per shard. A record whose item has no valid key (`key` returns
 * a key attribute that is missing, empty, not a scalar of the declared type, a number DynamoDB
 * cannot store or over DynamoDB's key size: `view.invalidKey`) or whose row exceeds 400 KB
 * (`sink.itemTooLarge`) goes to the dead letters with the reason; the pipeline goes on.
 *
 * The row type is inferred from the definition: annotate the key function's parameter (or let
 * `.to(...)` infer it from the source).
 *
 * @example
 * ```ts
 * const userAlbums = indexView({
 *   table: 'user_albums',
 *   partitionKey: { name: 'userId', type: 'S' },
 *   sortKey: { name: 'albumId', type: 'S' },
 *   key: (m: AlbumUser) => ({ userId: m.userId, albumId: m.albumId }),
 *   project: ['role'],
 *   base: { table: 'album_users', key: ['albumId', 'userId'] },
 * });
 * pipeline('user-albums').from(dynamodbTable<AlbumUser>('album_users')).to(userAlbums);
 * ```
 */
export function indexView<
  T,
  K extends Record<string, unknown> = Record<string, unknown>,
  const A extends BaseKeys<T> = readonly [],
  const BK extends BaseKeys<T> = readonly [],
>(options: IndexViewOptions<T, K, A, BK>): IndexView<T, Simplify<K & Pick<T, A[number] | BK[number]>>>;
export function indexView<
  T,
  K extends Record<string, unknown>,
  P extends Record<string, unknown>,
  const BK extends BaseKeys<T> = readonly [],
>(options: IndexViewProjectFnOptions<T, K, P, BK>): IndexView<T, Simplify<K & P & Pick<T, BK[number]>>>;
export function indexView<T>(
  options:
    | IndexViewOptions<T, Record<string, unknown>, BaseKeys<T>, BaseKeys<T>>
    | IndexViewProjectFnOptions<T, Record<string, unknown>, unknown, BaseKeys<T>>,
): IndexView<T, unknown> {
  return new IndexViewSink<T>(options);
}

class IndexViewSink<T> implements IndexView<T, unknown> {
  readonly name: string;
  readonly table: string;
  readonly partitionKey: KeyAttr;
  readonly sortKey?: KeyAttr;
  readonly base?: { readonly table: string; readonly key: readonly string[] };
  /** A modify deletes the row the old image keyed and puts the one the new image keys. */
  readonly needs = { oldImage: true, newImage: true } as const;
  private readonly def: IndexDef<T>;
  private readonly lanes = new SerialLanes();
  private readonly counts = { puts: 0, deletes: 0, unchanged: 0 };
  private io!: TableIO;

  constructor(
    private readonly options:
      | IndexViewOptions<T, Record<string, unknown>, BaseKeys<T>, BaseKeys<T>>
      | IndexViewProjectFnOptions<T, Record<string, unknown>, unknown, BaseKeys<T>>,
  ) {
    this.table = options.table;
    this.name = options.name ?? `index:${options.table}`;
    this.partitionKey = { name: options.partitionKey.name, type: options.partitionKey.type };
    if (options.sortKey) this.sortKey = { name: options.sortKey.name, type: options.sortKey.type };
    if (options.sortKey?.name === options.partitionKey.name)
      throw new TributaryError(
        'config.invalid',
        `index view '${this.name}': partition and sort key are the same attribute`,
      );
    if (options.base) this.base = { table: options.base.table, key: [...options.base.key] };
    const project = options.project;
    const projectFn: (item: T) => unknown =
      typeof project === 'function'
        ? project
        : (item: T) => {
            const out: Record<string, unknown> = {};
            for (const a of project ?? []) out[a] = (item as Record<string, unknown>)[a];
            return out;
          };
    this.def = {
      name: this.name,
      partitionKey: this.partitionKey,
      sortKey: this.sortKey,
      key: options.key,
      project: projectFn,
      baseKey: this.base?.key ?? [],
    };
  }

  tables(): readonly TableSpec[] {
    const o = this.options;
    return [
      {
        name: this.table,
        partitionKey: this.partitionKey,
        ...(this.sortKey ? { sortKey: this.sortKey } : {}),
        ...(o.globalSecondaryIndexes ? { globalSecondaryIndexes: o.globalSecondaryIndexes } : {}),
        ...(o.provisioned ? { provisioned: o.provisioned } : {}),
      },
    ];
  }

  /** DescribeTable at open; BatchWriteItem, or the exactly-once committer's PutItem and DeleteItem. */
  iam(env: IamEnv): readonly Permission[] {
    return [itemWrites(env, this.table)];
  }

  get stats(): IndexViewStats {
    return { ...this.counts };
  }

  rowOf(item: T): unknown {
    return unmarshallImage(buildRow(this.def, item).item);
  }

  async open(env: SinkEnv): Promise<void> {
    const physical = env.tableName(this.table);
    await checkViewTable(env, `index view '${this.name}'`, physical, this.partitionKey, this.sortKey);
    this.io = env.io(physical);
  }

  write(outputs: readonly DynamoChange<T>[], ctx: WriteContext): Promise<void> {
    if (outputs.length === 0) return Promise.resolve();
    // Plan before sending anything, so a change that can never apply fails this call alone.
    const byKey = new Map<string, WriteRequest>();
    let unchanged = 0;
    for (const change of outputs) {
      const planned = planIndexChange(this.def, change);
      if (planned.length === 0 && change.kind === 'modify') unchanged++;
      for (const w of planned) {
        // Re-setting moves nothing: keys are distinct in one BatchWriteItem, so order among them is free.
        byKey.set(w.keyString, w.type === 'put' ? { PutRequest: { Item: w.item } } : { DeleteRequest: { Key: w.key } });
      }
    }
    this.counts.unchanged += unchanged;
    if (byKey.size === 0) return Promise.resolve();
    const requests = [...byKey.values()];
    return this.lanes.run(shardLane(ctx.positions[0]), async () => {
      await this.io.batchWrite(requests, writeUnits);
      for (const r of requests) {
        if (r.PutRequest) this.counts.puts++;
        else this.counts.deletes++;
      }
    });
  }

  /** Exactly-once: the deletes and puts of the changes as effects, the last of a key winning. */
  stage(outputs: readonly DynamoChange<T>[]): readonly Effect[] {
    const byKey = new Map<string, Effect>();
    for (const change of outputs)
      for (const w of planIndexChange(this.def, change)) {
        byKey.delete(w.keyString);
        byKey.set(
          w.keyString,
          w.type === 'put'
            ? {
                kind: 'put',
                table: this.io.table,
                id: w.keyString,
                key: keyOf(w.item, this.def),
                item: w.item,
                units: writeUnits({ PutRequest: { Item: w.item } }),
              }
            : { kind: 'delete', table: this.io.table, id: w.keyString, key: w.key },
        );
      }
    return [...byKey.values()];
  }

  async flush(): Promise<void> {
    await this.lanes.idle();
  }
}

/** The view's key attributes of a row. */
function keyOf<T>(item: Readonly<Record<string, AttributeValue>>, def: IndexDef<T>): Record<string, AttributeValue> {
  const key: Record<string, AttributeValue> = { [def.partitionKey.name]: item[def.partitionKey.name]! };
  if (def.sortKey) key[def.sortKey.name] = item[def.sortKey.name]!;
  return key;
}
