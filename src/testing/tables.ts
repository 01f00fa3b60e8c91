import {
  CreateTableCommand,
  DeleteTableCommand,
  paginateScan,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { unmarshallImage } from '../core/numbers.js';
import { isNotFound } from '../core/not-found.js';
import type { TableSpec } from '../core/tables.js';
import { waitStreamActive, waitTableActive } from '../sinks/waiters.js';
import { createTableInput } from '../views/tables/create-input.js';

export { waitStreamActive };

/**
 * Creates a table from a spec (stream enabled where the spec says) and waits until it is active.
 * An existing table is left as it is.
 *
 * @example
 * ```ts
 * await createTable(clients.dynamodb, { name: 'orders', partitionKey: { name: 'id', type: 'S' }, stream: 'NEW_AND_OLD_IMAGES' });
 * ```
 */
export async function createTable(
  ddb: DynamoDBClient,
  spec: TableSpec,
  physicalName: string = spec.name,
): Promise<void> {
  try {
    await ddb.send(new CreateTableCommand(createTableInput(spec, physicalName)));
  } catch (e) {
    if ((e as Error).name !== 'ResourceInUseException') throw e;
  }
  await waitTableActive(ddb, physicalName);
  if (spec.ttlAttribute)
    await ddb
      .send(
        new UpdateTimeToLiveCommand({
          TableName: physicalName,
          TimeToLiveSpecification: { Enabled: true, AttributeName: spec.ttlAttribute },
        }),
      )
      .catch((e: unknown) => {
        // Already enabled on this attribute (a second create): nothing to do.
        if ((e as Error).name !== 'ValidationException') throw e;
      });
}

/** Deletes a table if it exists. */
export async function deleteTable(ddb: DynamoDBClient, name: string): Promise<void> {
  try {
    await ddb.send(new DeleteTableCommand({ TableName: name }));
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

/** Reads a whole table, unmarshalled. */
export async function scanAll<T = Record<string, unknown>>(ddb: DynamoDBClient, table: string): Promise<T[]> {
  const out: T[] = [];
  for await (const page of paginateScan({ client: ddb }, { TableName: table, ConsistentRead: true }))
    for (const i of page.Items ?? []) out.push(unmarshallImage(i) as T);
  return out;
}

/** Creates a Kinesis stream with `shards` shards and waits until it is active. */
export async function createStream(kinesis: KinesisClient, name: string, shards: number): Promise<void> {
  try {
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  } catch (e) {
    if ((e as Error).name !== 'ResourceInUseException') throw e;
  }
  await waitStreamActive(kinesis, name);
}
