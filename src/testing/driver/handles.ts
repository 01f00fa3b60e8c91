import { DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ListShardsCommand, PutRecordsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Clients } from '../../core/clients.js';
import { TributaryError } from '../../core/errors.js';
import { scanAll } from '../tables.js';
import type { InProcessServices } from './services.js';

/** Runs a piece of work on the driver's virtual clock until it is done. */
export type RunOnClock = <T>(work: Promise<T>) => Promise<T>;

/** An update of one item: `SET` attributes, `ADD` to numbers, `REMOVE` attributes. */
export interface ItemUpdate {
  readonly set?: Readonly<Record<string, unknown>>;
  readonly add?: Readonly<Record<string, number>>;
  readonly remove?: readonly string[];
}

/**
 * A table of the driver, as plain objects: what the test writes to a source table (each write
 * becomes a stream record, as on DynamoDB) and reads back from a view table.
 *
 * @example
 * ```ts
 * await driver.table('orders').put({ id: 'o1', customer: 'ada' });
 * const rows = await driver.table('per_customer').items();
 * ```
 */
export class DriverTable<T extends object = Record<string, unknown>> {
  constructor(
    readonly name: string,
    private readonly clients: Clients,
    private readonly services: InProcessServices,
    private readonly run: RunOnClock,
  ) {}

  /** Writes a whole item (PutItem). */
  async put(item: T): Promise<void> {
    await this.run(
      this.clients.dynamodb.send(
        new PutItemCommand({ TableName: this.name, Item: marshall(item, { removeUndefinedValues: true }) }),
      ),
    );
  }

  /** Changes attributes of one item (UpdateItem), creating it if it does not exist. */
  async update(key: Partial<T>, change: ItemUpdate): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const clauses: string[] = [];
    const name = (a: string) => ((names[`#a${Object.keys(names).length}`] = a), `#a${Object.keys(names).length - 1}`);
    const value = (v: unknown) => (
      (values[`:v${Object.keys(values).length}`] = v),
      `:v${Object.keys(values).length - 1}`
    );
    const set = Object.entries(change.set ?? {}).map(([a, v]) => `${name(a)} = ${value(v)}`);
    const add = Object.entries(change.add ?? {}).map(([a, v]) => `${name(a)} ${value(v)}`);
    const remove = (change.remove ?? []).map(name);
    if (set.length) clauses.push(`SET ${set.join(', ')}`);
    if (add.length) clauses.push(`ADD ${add.join(', ')}`);
    if (remove.length) clauses.push(`REMOVE ${remove.join(', ')}`);
    if (clauses.length === 0)
      throw new TributaryError('config.invalid', `an update of '${this.name}' needs set, add or remove`);
    await this.run(
      this.clients.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.name,
          Key: marshall(key),
          UpdateExpression: clauses.join(' '),
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length ? { ExpressionAttributeValues: marshall(values) } : {}),
        }),
      ),
    );
  }

  /** Deletes one item by its key. */
  async delete(key: Partial<T>): Promise<void> {
    await this.run(this.clients.dynamodb.send(new DeleteItemCommand({ TableName: this.name, Key: marshall(key) })));
  }

  /** One item by its key (a consistent read), or undefined. */
  async get(key: Partial<T>): Promise<T | undefined> {
    const out = await this.run(
      this.clients.dynamodb.send(
        new GetItemCommand({ TableName: this.name, Key: marshall(key), ConsistentRead: true }),
      ),
    );
    return out.Item ? (unmarshall(out.Item) as T) : undefined;
  }

  /** Every item, in the order of a Scan. */
  async items(): Promise<T[]> {
    return this.run(scanAll<T>(this.clients.dynamodb, this.name));
  }

  /**
   * Closes the open shard of the table's stream and opens its child, as DynamoDB Streams rolls
   * shards over: the writes after it go to the child, which the app reads once the parent is done.
   * Returns the child's shard id.
   */
  rollStreamShard(): string {
    if (!this.services.dynamodb.streams.of(this.name))
      throw new TributaryError('source.notFound', `table '${this.name}' has no stream in the test driver`);
    return this.services.dynamodb.streams.split(this.name);
  }
}

/** A record written to a driver stream: where it went. */
export interface PutResult {
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/**
 * A Kinesis stream of the driver: put records (JSON for objects, bytes as given), split shards.
 *
 * @example
 * ```ts
 * await driver.stream('clicks').put({ page: '/', at: driver.now() }, { partitionKey: '/' });
 * await driver.stream('clicks').split('shardId-000000000000');
 * ```
 */
export class DriverStream {
  constructor(
    readonly name: string,
    private readonly clients: Clients,
    private readonly run: RunOnClock,
  ) {}

  /** Puts one record; the partition key defaults to a hash of the data. */
  async put(data: unknown, opts: { readonly partitionKey?: string } = {}): Promise<PutResult> {
    return (await this.putMany([{ data, ...opts }]))[0]!;
  }

  /** Puts records in one `PutRecords` call (at most 500), in order. Records Kinesis refuses throw. */
  async putMany(records: readonly { readonly data: unknown; readonly partitionKey?: string }[]): Promise<PutResult[]> {
    const out = await this.run(
      this.clients.kinesis.send(
        new PutRecordsCommand({
          StreamName: this.name,
          Records: records.map((r) => {
            const data = bytesOf(r.data);
            return { Data: data, PartitionKey: r.partitionKey ?? Buffer.from(data).toString('base64').slice(0, 256) };
          }),
        }),
      ),
    );
    const failed = (out.Records ?? []).filter((r) => r.ErrorCode);
    if (failed.length)
      throw new TributaryError(
        'sink.retriesExhausted',
        `${failed.length} of ${records.length} records were refused by stream '${this.name}': ${failed[0]!.ErrorCode}`,
        { details: { stream: this.name, failed: failed.length } },
      );
    return (out.Records ?? []).map((r) => ({ shardId: r.ShardId!, sequenceNumber: r.SequenceNumber! }));
  }

  /** Splits an open shard at the middle of its hash key range (SplitShard); resolves once both children are open. */
  async split(shardId: string): Promise<void> {
    const shards = (await this.run(this.clients.kinesis.send(new ListShardsCommand({ StreamName: this.name })))).Shards;
    const shard = shards?.find((s) => s.ShardId === shardId);
    if (!shard?.HashKeyRange)
      throw new TributaryError('source.notFound', `stream '${this.name}' has no shard ${shardId}`);
    const start = BigInt(shard.HashKeyRange.StartingHashKey!);
    const end = BigInt(shard.HashKeyRange.EndingHashKey!);
    await this.run(
      this.clients.kinesis.send(
        new SplitShardCommand({
          StreamName: this.name,
          ShardToSplit: shardId,
          NewStartingHashKey: String((start + end + 1n) / 2n),
        }),
      ),
    );
  }
}

const bytesOf = (data: unknown): Uint8Array =>
  data instanceof Uint8Array ? data : typeof data === 'string' ? Buffer.from(data) : Buffer.from(JSON.stringify(data));
