import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
  type ConsumedCapacity,
  type DeleteItemCommandInput,
  type DynamoDBClient,
  type PutItemCommandInput,
  type QueryCommandInput,
  type QueryCommandOutput,
  type ScanCommandInput,
  type ScanCommandOutput,
  type TransactWriteItem,
  type UpdateItemCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { SendGuard, TableIO } from '../core/table-io.js';
import { isThrottle, retryUnprocessed, withRetry } from '../core/retry.js';

type Key = Record<string, AttributeValue>;

/** Backoff between rounds of unprocessed items or keys: capped lower than for errors, since part of each call got through. */
const UNPROCESSED_BACKOFF = { baseMs: 50, capMs: 2_000 } as const;

/** What a capacity governor needs to hear about each call; all optional. */
export interface IoObserver {
  /** Before a write or read is sent: estimated capacity units. Resolves when the call may go. */
  acquire?(kind: 'read' | 'write', units: number): Promise<void>;
  /** After a call: what DynamoDB reports it consumed, and what was estimated (taken) before it. */
  consumed?(kind: 'read' | 'write', capacity: ConsumedCapacity | undefined, estimated: number): void;
  /** A call was throttled (error or unprocessed items). */
  throttled?(kind: 'read' | 'write', count: number): void;
  /** Units each item of a call spent, by its key (or its whole item): for the hot-key counts. */
  keys?(kind: 'read' | 'write', entries: readonly { readonly key: Key; readonly units: number }[]): void;
  /** Most units one request should carry: a request larger than a second of budget is throttled in part. */
  maxUnitsPerRequest?(kind: 'read' | 'write'): number | undefined;
}

/**
 * Every DynamoDB call a sink or view makes on one table goes through a TableIO: retries with
 * backoff (unprocessed items and keys included) live here, and so does capacity accounting, so
 * that cross-cutting concerns are a layer around writers rather than sprinkled through them.
 *
 * @example
 * ```ts
 * const io = new DynamoTableIO(clients.dynamodb, 'page_clicks');
 * await io.update({ Key: marshall({ page: 'home' }), UpdateExpression: 'ADD clicks :n', ExpressionAttributeValues: marshall({ ':n': 3 }) });
 * ```
 */
export class DynamoTableIO implements TableIO {
  constructor(
    readonly ddb: DynamoDBClient,
    readonly table: string,
    private readonly observer: IoObserver = {},
    /** Once aborted, calls in flight are cancelled and nothing is retried (a runner stopping past its deadline). */
    private readonly signal?: AbortSignal,
  ) {}

  /** Options of every send: the abort signal. */
  private get options(): { abortSignal?: AbortSignal } {
    return { abortSignal: this.signal };
  }

  /** Writes every request, 25 a call, concurrently; keys must be distinct (coalesce first). */
  async batchWrite(requests: readonly WriteRequest[], unitsOf: (r: WriteRequest) => number = () => 1): Promise<void> {
    const maxUnits = this.observer.maxUnitsPerRequest?.('write') ?? Infinity;
    const chunks: WriteRequest[][] = [];
    let chunk: WriteRequest[] = [];
    let units = 0;
    for (const r of requests) {
      const u = unitsOf(r);
      if (chunk.length === 25 || (chunk.length > 0 && units + u > maxUnits)) {
        chunks.push(chunk);
        chunk = [];
        units = 0;
      }
      chunk.push(r);
      units += u;
    }
    if (chunk.length) chunks.push(chunk);
    await Promise.all(chunks.map((c) => this.writeChunk(c, unitsOf)));
  }

  private writeChunk(chunk: WriteRequest[], unitsOf: (r: WriteRequest) => number): Promise<void> {
    return retryUnprocessed(
      chunk,
      async (pending) => {
        const units = pending.reduce((a, r) => a + unitsOf(r), 0);
        await this.observer.acquire?.('write', units);
        const out = await this.call('write', () =>
          this.ddb.send(
            new BatchWriteItemCommand({
              RequestItems: { [this.table]: pending },
              ReturnConsumedCapacity: 'INDEXES',
            }),
            this.options,
          ),
        );
        this.observer.consumed?.('write', out.ConsumedCapacity?.[0], units);
        this.observer.keys?.(
          'write',
          pending.map((r) => ({ key: (r.PutRequest?.Item ?? r.DeleteRequest?.Key)!, units: unitsOf(r) })),
        );
        return this.unprocessed('write', out.UnprocessedItems?.[this.table]);
      },
      { ...UNPROCESSED_BACKOFF, signal: this.signal },
    );
  }

  async put(input: Omit<PutItemCommandInput, 'TableName'>, units = 1, guard?: SendGuard): Promise<void> {
    await this.observer.acquire?.('write', units);
    const out = await this.call('write', () => {
      guard?.();
      return this.ddb.send(
        new PutItemCommand({ ...input, TableName: this.table, ReturnConsumedCapacity: 'INDEXES' }),
        this.options,
      );
    });
    this.observer.consumed?.('write', out.ConsumedCapacity, units);
    if (input.Item) this.observer.keys?.('write', [{ key: input.Item, units: spent(out.ConsumedCapacity, units) }]);
  }

  async delete(input: Omit<DeleteItemCommandInput, 'TableName'>, units = 1, guard?: SendGuard): Promise<void> {
    await this.observer.acquire?.('write', units);
    const out = await this.call('write', () => {
      guard?.();
      return this.ddb.send(
        new DeleteItemCommand({ ...input, TableName: this.table, ReturnConsumedCapacity: 'INDEXES' }),
        this.options,
      );
    });
    this.observer.consumed?.('write', out.ConsumedCapacity, units);
    if (input.Key) this.observer.keys?.('write', [{ key: input.Key, units: spent(out.ConsumedCapacity, units) }]);
  }

  /**
   * UpdateItem. A failed condition is an answer, not an error: resolves `false` (the write did
   * not happen) instead of throwing ConditionalCheckFailedException.
   */
  async update(input: Omit<UpdateItemCommandInput, 'TableName'>, units = 1, guard?: SendGuard): Promise<boolean> {
    await this.observer.acquire?.('write', units);
    try {
      const out = await this.call('write', () => {
        guard?.();
        return this.ddb.send(
          new UpdateItemCommand({ ...input, TableName: this.table, ReturnConsumedCapacity: 'INDEXES' }),
          this.options,
        );
      });
      this.observer.consumed?.('write', out.ConsumedCapacity, units);
      if (input.Key) this.observer.keys?.('write', [{ key: input.Key, units: spent(out.ConsumedCapacity, units) }]);
      return true;
    } catch (e) {
      if ((e as Error).name === 'ConditionalCheckFailedException') return false;
      throw e;
    }
  }

  /** TransactWriteItems (at most 100 items); a transaction costs twice the units. */
  async transactWrite(items: readonly TransactWriteItem[], units = items.length): Promise<void> {
    await this.observer.acquire?.('write', 2 * units);
    const out = await this.call('write', () =>
      this.ddb.send(
        new TransactWriteItemsCommand({ TransactItems: [...items], ReturnConsumedCapacity: 'INDEXES' }),
        this.options,
      ),
    );
    const mine = out.ConsumedCapacity?.find((c) => c.TableName === this.table);
    this.observer.consumed?.('write', mine, 2 * units);
  }

  /** Reads items by key, 100 a call, retrying unprocessed keys; returns them in no particular order. */
  async batchGet(
    keys: readonly Key[],
    projection?: { expression: string; names?: Record<string, string> },
    consistent = false,
  ): Promise<Record<string, AttributeValue>[]> {
    const out: Record<string, AttributeValue>[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      await retryUnprocessed(
        keys.slice(i, i + 100),
        async (pending) => {
          await this.observer.acquire?.('read', pending.length);
          const res = await this.call('read', () =>
            this.ddb.send(
              new BatchGetItemCommand({
                RequestItems: {
                  [this.table]: {
                    Keys: pending,
                    ConsistentRead: consistent,
                    ProjectionExpression: projection?.expression,
                    ExpressionAttributeNames: projection?.names,
                  },
                },
                ReturnConsumedCapacity: 'INDEXES',
              }),
              this.options,
            ),
          );
          this.observer.consumed?.('read', res.ConsumedCapacity?.[0], pending.length);
          const found = res.Responses?.[this.table] ?? [];
          // A read of up to 4 KB costs a unit when consistent, half of one when not.
          this.observer.keys?.(
            'read',
            found.map((key) => ({ key, units: consistent ? 1 : 0.5 })),
          );
          out.push(...found);
          return this.unprocessed('read', res.UnprocessedKeys?.[this.table]?.Keys as Key[] | undefined);
        },
        { ...UNPROCESSED_BACKOFF, signal: this.signal },
      );
    }
    return out;
  }

  /** One page of a query. */
  async query(input: Omit<QueryCommandInput, 'TableName'>, units = 1): Promise<QueryCommandOutput> {
    await this.observer.acquire?.('read', units);
    const out = await this.call('read', () =>
      this.ddb.send(
        new QueryCommand({ ...input, TableName: this.table, ReturnConsumedCapacity: 'INDEXES' }),
        this.options,
      ),
    );
    this.observer.consumed?.('read', out.ConsumedCapacity, units);
    return out;
  }

  /** One page of a scan. */
  async scan(input: Omit<ScanCommandInput, 'TableName'>, units = 1): Promise<ScanCommandOutput> {
    await this.observer.acquire?.('read', units);
    const out = await this.call('read', () =>
      this.ddb.send(
        new ScanCommand({ ...input, TableName: this.table, ReturnConsumedCapacity: 'INDEXES' }),
        this.options,
      ),
    );
    this.observer.consumed?.('read', out.ConsumedCapacity, units);
    return out;
  }

  /** What a batch call handed back: throttled in part, so the governor hears of it before the next round. */
  private unprocessed<T>(kind: 'read' | 'write', left: T[] | undefined): T[] | undefined {
    if (left?.length) this.observer.throttled?.(kind, left.length);
    return left;
  }

  private call<T>(kind: 'read' | 'write', fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, {
      signal: this.signal,
      onRetry: (e) => this.observer.throttled?.(kind, isThrottle(e) ? 1 : 0),
    });
  }
}

/** Units a single-item call consumed, as DynamoDB reports them (the table's own), else the estimate. */
const spent = (c: ConsumedCapacity | undefined, estimated: number): number =>
  c?.Table?.CapacityUnits ?? c?.CapacityUnits ?? estimated;
