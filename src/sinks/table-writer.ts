import { DescribeTableCommand, type AttributeValue, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Effect } from '../core/effects.js';
import { TributaryError } from '../core/errors.js';
import { itemWrites, type IamEnv, type Permission } from '../core/iam.js';
import { rethrowMissing } from '../core/not-found.js';
import { wireKeyProblem, type KeyRule } from '../core/key-rules.js';
import type { KeyType } from '../core/tables.js';
import type { Sink, SinkEnv, WriteContext } from '../core/sink.js';
import { withRetry } from '../core/retry.js';
import type { TableIO } from '../core/table-io.js';
import { keyString } from './key-string.js';
import { itemSize, MAX_ITEM_BYTES } from './item-size.js';
import type { TableWrite } from './table-writes.js';
import { SerialLanes, shardLane } from '../core/serial-lanes.js';

/**
 * A sink that applies puts and deletes to a DynamoDB table with BatchWriteItem, retrying
 * unprocessed items until all are written. Writes of one shard are applied in order; within a
 * batch the last write of a key wins, as it would applied one by one.
 *
 * @example
 * ```ts
 * pipeline('mirror').from(dynamodbTable<User>('users'))
 *   .pipe(map(c => c.kind === 'remove' ? del(c.keys) : put(c.newImage!)))
 *   .to(tableWriter('users_mirror'))
 * ```
 */
export function tableWriter<T extends Record<string, unknown> = Record<string, unknown>>(
  table: string,
): Sink<TableWrite<T>> {
  return new TableWriterSink<T>(table);
}

class TableWriterSink<T extends Record<string, unknown>> implements Sink<TableWrite<T>> {
  readonly name: string;
  private io!: TableIO;
  private keyNames: string[] = [];
  private keyRules: KeyRule[] = [];
  private readonly lanes = new SerialLanes();

  constructor(private readonly table: string) {
    this.name = `table:${table}`;
  }

  /** DescribeTable at open; BatchWriteItem, or the exactly-once committer's PutItem and DeleteItem. */
  iam(env: IamEnv): readonly Permission[] {
    return [itemWrites(env, this.table)];
  }

  async open(env: SinkEnv): Promise<void> {
    const physical = env.tableName(this.table);
    this.io = env.io(physical);
    const d = await rethrowMissing(
      () => withRetry(() => env.clients.dynamodb.send(new DescribeTableCommand({ TableName: physical }))),
      (cause) =>
        new TributaryError(
          'sink.tableMissing',
          `table writer: table '${physical}' does not exist (create it before the app starts)`,
          { details: { table: physical }, cause },
        ),
    );
    const types = new Map((d.Table?.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType]));
    this.keyRules = (d.Table?.KeySchema ?? []).map((k) => ({
      name: k.AttributeName!,
      type: types.get(k.AttributeName) as KeyType | undefined,
      role: k.KeyType === 'RANGE' ? 'sort' : 'partition',
    }));
    this.keyNames = this.keyRules.map((r) => r.name);
  }

  write(outputs: readonly TableWrite<T>[], ctx: WriteContext): Promise<void> {
    if (outputs.length === 0) return Promise.resolve();
    // Validate before anything is sent, so a bad output fails this call alone and is isolated by the runner.
    const requests = this.toRequests(outputs);
    return this.lanes.run(shardLane(ctx.positions[0]), () => this.io.batchWrite(requests, writeUnits));
  }

  /** Exactly-once: the puts and deletes as effects, the last of a key winning. */
  stage(outputs: readonly TableWrite<T>[]): readonly Effect[] {
    return this.toRequests(outputs).map((r): Effect => {
      if (r.PutRequest) {
        const item = r.PutRequest.Item!;
        const key = this.checkKey(item);
        const id = keyString(key, this.keyNames);
        return { kind: 'put', table: this.io.table, id, key, item, units: writeUnits(r) };
      }
      const key = r.DeleteRequest!.Key!;
      return { kind: 'delete', table: this.io.table, id: keyString(key, this.keyNames), key };
    });
  }

  private toRequests(outputs: readonly TableWrite<T>[]): WriteRequest[] {
    const byKey = new Map<string, WriteRequest>();
    for (const o of outputs) {
      if (o.type === 'put') {
        const item = marshall(o.item, { removeUndefinedValues: true, convertClassInstanceToMap: true }) as Record<
          string,
          AttributeValue
        >;
        const key = this.checkKey(item);
        const size = itemSize(item);
        if (size > MAX_ITEM_BYTES)
          throw new TributaryError(
            'sink.itemTooLarge',
            `item of ${size} bytes exceeds DynamoDB's 400 KB limit for table '${this.table}'`,
            { details: { table: this.table, size } },
          );
        byKey.set(keyString(key, this.keyNames), { PutRequest: { Item: item } });
      } else {
        const key = this.checkKey(marshall(o.key, { removeUndefinedValues: true }) as Record<string, AttributeValue>);
        byKey.set(keyString(key, this.keyNames), { DeleteRequest: { Key: key } });
      }
    }
    return [...byKey.values()];
  }

  private checkKey(item: Record<string, AttributeValue>): Record<string, AttributeValue> {
    const key: Record<string, AttributeValue> = {};
    for (const rule of this.keyRules) {
      const v = item[rule.name];
      const problem = wireKeyProblem(rule, v);
      if (problem)
        throw new TributaryError('sink.invalidItem', `table '${this.table}': ${problem}`, {
          details: { table: this.table, attribute: rule.name },
        });
      key[rule.name] = v!;
    }
    return key;
  }
}

/** Write capacity units of a request: 1 per started KB of the item; a delete costs at least 1. */
export function writeUnits(r: WriteRequest): number {
  return r.PutRequest?.Item ? Math.max(1, Math.ceil(itemSize(r.PutRequest.Item) / 1024)) : 1;
}
