import { DescribeTableCommand, type AttributeValue, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TributaryError } from '../core/errors.js';
import { itemSize } from '../sinks/item-size.js';
import type { Toolkit } from './context.js';

type Item = Record<string, unknown>;

/** One operation of a batch; `result.get(op)` gives its value. The type parameter is what it gives. */
export interface BatchOp<T> {
  readonly id: number;
  readonly kind: 'put' | 'delete' | 'get' | 'query';
  readonly table: string;
  /** Only for the type: what the operation resolves to. */
  readonly _result?: T;
}

/** A query of a batch: one partition, an optional key condition on the sort key, an index. */
export interface BatchQuery {
  /** `KeyConditionExpression`, e.g. `'#pk = :pk AND begins_with(#sk, :p)'`. */
  readonly keyCondition: string;
  readonly names?: Readonly<Record<string, string>>;
  /** Plain values (marshalled here). */
  readonly values: Readonly<Record<string, unknown>>;
  readonly index?: string;
  /** Most items to return, over every page. Default all. */
  readonly limit?: number;
}

/** Options of {@link batch}. */
export interface BatchOptions {
  /** Calls in flight at once, over every table. Default 8. */
  readonly concurrency?: number;
  /** Strongly consistent gets and queries. Default true: a batch reads what it wrote. */
  readonly consistent?: boolean;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: TributaryError };

interface Pending {
  readonly op: BatchOp<unknown>;
  readonly key?: Record<string, AttributeValue>;
  readonly request?: WriteRequest;
  readonly query?: BatchQuery;
}

/** What a batch came to, operation by operation. */
export class BatchResult {
  constructor(private readonly outcomes: ReadonlyMap<number, Outcome>) {}

  /** The operation's value (an item or undefined for a get, the items of a query), or its error thrown. */
  get<T>(op: BatchOp<T>): T {
    const o = this.outcomes.get(op.id);
    if (!o) throw new TributaryError('config.invalid', `operation ${op.id} is not part of this batch`);
    if (!o.ok) throw o.error;
    return o.value as T;
  }

  /** The operation's error, if it failed. */
  error(op: BatchOp<unknown>): TributaryError | undefined {
    const o = this.outcomes.get(op.id);
    return o && !o.ok ? o.error : undefined;
  }

  /** How many operations failed. */
  get failed(): number {
    let n = 0;
    for (const o of this.outcomes.values()) if (!o.ok) n++;
    return n;
  }
}

/**
 * Operations collected across tables and run together: puts and deletes in BatchWriteItem calls
 * of 25, gets in BatchGetItem calls of 100, queries paged to the end. Every call goes through the
 * table's governed I/O, so unprocessed items and keys are retried with backoff under the table's
 * capacity budget, and throttling never reaches the caller. Writes run first, in the order given
 * for any one key (two writes of one key never share a call, which DynamoDB would refuse); then
 * gets and queries, which read what the writes left. Each operation has its own outcome: one item
 * DynamoDB refuses fails alone (`toolkit.operationFailed`), not its neighbours.
 *
 * @example
 * ```ts
 * const b = batch(tk);
 * b.put('orders', { orderId: 'o1', customerId: 'c1' });
 * const c1 = b.get<Customer>('customers', { customerId: 'c1' });
 * const recent = b.query<Order>('orders_by_customer', { keyCondition: 'customerId = :c', values: { ':c': 'c1' } });
 * const result = await b.run();
 * console.log(result.get(c1), result.get(recent).length);
 * ```
 */
export function batch(tk: Toolkit, options: BatchOptions = {}): OperationBatch {
  return new OperationBatch(tk, options);
}

export class OperationBatch {
  private readonly pending: Pending[] = [];
  private ran = false;

  constructor(
    private readonly tk: Toolkit,
    private readonly options: BatchOptions = {},
  ) {}

  /** Puts a whole item (plain values, marshalled here). */
  put(table: string, item: Item): BatchOp<void> {
    const wire = marshall(item, { removeUndefinedValues: true });
    return this.add({ kind: 'put', table }, { request: { PutRequest: { Item: wire } }, key: wire });
  }

  /** Deletes an item by its key. */
  delete(table: string, key: Item): BatchOp<void> {
    const wire = marshall(key);
    return this.add({ kind: 'delete', table }, { request: { DeleteRequest: { Key: wire } }, key: wire });
  }

  /** Reads an item by its key: undefined when there is none. */
  get<T = Item>(table: string, key: Item): BatchOp<T | undefined> {
    return this.add({ kind: 'get', table }, { key: marshall(key) });
  }

  /** Queries one partition of a table or index, every page. */
  query<T = Item>(table: string, query: BatchQuery): BatchOp<T[]> {
    return this.add({ kind: 'query', table }, { query });
  }

  /** Runs every operation; resolves when all are done, each with its value or its error. Once. */
  async run(): Promise<BatchResult> {
    if (this.ran) throw new TributaryError('config.invalid', 'a batch runs once; start another with batch()');
    this.ran = true;
    const outcomes = new Map<number, Outcome>();
    const pool = new Pool(this.options.concurrency ?? 8);
    await this.writes(pool, outcomes);
    await Promise.all([this.gets(pool, outcomes), this.queries(pool, outcomes)]);
    return new BatchResult(outcomes);
  }

  private add<T>(op: Omit<BatchOp<T>, 'id'>, rest: Omit<Pending, 'op'>): BatchOp<T> {
    if (this.ran) throw new TributaryError('config.invalid', 'this batch has run; start another with batch()');
    const full = { ...op, id: this.pending.length } as BatchOp<T>;
    this.pending.push({ op: full, ...rest });
    return full;
  }

  /** Puts and deletes by table, in rounds: the n-th write of a key goes in round n, after the rounds before. */
  private async writes(pool: Pool, outcomes: Map<number, Outcome>): Promise<void> {
    const byTable = groupBy(
      this.pending.filter((p) => p.request),
      (p) => p.op.table,
    );
    await Promise.all(
      [...byTable].map(async ([table, writes]) => {
        const io = this.tk.io(table);
        const keyNames = await this.keyNames(table, writes);
        const rounds: Pending[][] = [];
        const seen = new Map<string, number>();
        for (const w of writes) {
          const k = keyOf(w.key!, keyNames);
          const n = seen.get(k) ?? 0;
          seen.set(k, n + 1);
          (rounds[n] ??= []).push(w);
        }
        for (const round of rounds)
          await Promise.all(
            chunks(round, 25).map((chunk) =>
              pool.run(async () => {
                try {
                  await io.batchWrite(
                    chunk.map((w) => w.request!),
                    (r) => unitsOf(r),
                  );
                  for (const w of chunk) outcomes.set(w.op.id, { ok: true, value: undefined });
                } catch {
                  // One refused item fails the call: write them one by one to find it.
                  for (const w of chunk) outcomes.set(w.op.id, await single(io, w));
                }
              }),
            ),
          );
      }),
    );
  }

  private async gets(pool: Pool, outcomes: Map<number, Outcome>): Promise<void> {
    const byTable = groupBy(
      this.pending.filter((p) => p.op.kind === 'get'),
      (p) => p.op.table,
    );
    await Promise.all(
      [...byTable].map(async ([table, gets]) => {
        const io = this.tk.io(table);
        const keyNames = Object.keys(gets[0]!.key!);
        const distinct = new Map<string, Record<string, AttributeValue>>();
        for (const g of gets) distinct.set(keyOf(g.key!, keyNames), g.key!);
        const found = new Map<string, Item>();
        const failed = new Map<string, TributaryError>();
        await Promise.all(
          chunks([...distinct], 100).map((chunk) =>
            pool.run(async () => {
              try {
                const items = await io.batchGet(
                  chunk.map(([, k]) => k),
                  undefined,
                  this.options.consistent ?? true,
                );
                for (const it of items) found.set(keyOf(it, keyNames), unmarshall(it));
              } catch (e) {
                for (const [k] of chunk) failed.set(k, operationFailed('get', table, e));
              }
            }),
          ),
        );
        for (const g of gets) {
          const k = keyOf(g.key!, keyNames);
          const error = failed.get(k);
          outcomes.set(g.op.id, error ? { ok: false, error } : { ok: true, value: found.get(k) });
        }
      }),
    );
  }

  private async queries(pool: Pool, outcomes: Map<number, Outcome>): Promise<void> {
    await Promise.all(
      this.pending
        .filter((p) => p.query)
        .map((p) =>
          pool.run(async () => {
            const q = p.query!;
            const io = this.tk.io(p.op.table);
            const items: Item[] = [];
            try {
              let start: Record<string, AttributeValue> | undefined;
              do {
                const page = await io.query({
                  KeyConditionExpression: q.keyCondition,
                  ...(q.names ? { ExpressionAttributeNames: { ...q.names } } : {}),
                  ExpressionAttributeValues: marshall(q.values),
                  ...(q.index ? { IndexName: q.index } : {}),
                  ...(q.limit !== undefined ? { Limit: q.limit - items.length } : {}),
                  ...(start ? { ExclusiveStartKey: start } : {}),
                  ...(q.index ? {} : { ConsistentRead: this.options.consistent ?? true }),
                });
                for (const it of page.Items ?? []) items.push(unmarshall(it));
                start = page.LastEvaluatedKey;
              } while (start && (q.limit === undefined || items.length < q.limit));
              outcomes.set(p.op.id, { ok: true, value: items });
            } catch (e) {
              outcomes.set(p.op.id, { ok: false, error: operationFailed('query', p.op.table, e) });
            }
          }),
        ),
    );
  }

  /** The table's key attributes, from DynamoDB (two writes of one key must not share a call). */
  private async keyNames(table: string, writes: readonly Pending[]): Promise<readonly string[]> {
    try {
      const out = await this.tk.clients.dynamodb.send(
        new DescribeTableCommand({ TableName: this.tk.tableName(table) }),
      );
      return (out.Table?.KeySchema ?? []).map((k) => k.AttributeName!);
    } catch {
      // An unreadable table: every write fails on its own below; key them by the whole item.
      return Object.keys(writes[0]!.key!);
    }
  }
}

/** Bounded concurrency: at most `size` tasks at once. */
class Pool {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((r) => this.queue.push(r));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}

async function single(io: ReturnType<Toolkit['io']>, w: Pending): Promise<Outcome> {
  try {
    if (w.request!.PutRequest) await io.put({ Item: w.request!.PutRequest.Item! }, unitsOf(w.request!));
    else await io.delete({ Key: w.request!.DeleteRequest!.Key! }, 1);
    return { ok: true, value: undefined };
  } catch (e) {
    return { ok: false, error: operationFailed(w.op.kind, w.op.table, e) };
  }
}

const operationFailed = (kind: string, table: string, e: unknown): TributaryError =>
  new TributaryError(
    'toolkit.operationFailed',
    `${kind} on table '${table}' failed: ${e instanceof Error ? e.message : String(e)}`,
    { details: { kind, table, error: (e as Error | undefined)?.name }, cause: e },
  );

const unitsOf = (r: WriteRequest): number =>
  r.PutRequest ? Math.max(1, Math.ceil(itemSize(r.PutRequest.Item!) / 1024)) : 1;

const keyOf = (item: Record<string, AttributeValue>, names: readonly string[]): string =>
  JSON.stringify(names.map((n) => item[n] ?? null));

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = m.get(k);
    if (list) list.push(x);
    else m.set(k, [x]);
  }
  return m;
}
