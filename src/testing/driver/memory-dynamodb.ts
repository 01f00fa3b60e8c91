import { dynalite, DYNALITE_OPERATIONS, isDynaliteError, runAction, type DynaliteModules } from './dynalite.js';
import { ddbError, pickKey, type WireAnswer, type WireItem } from './wire.js';
import { MemoryStreams, type StreamViewType } from './memory-streams.js';
import { transactGet, transactWrite, type TransactionHost } from './memory-transactions.js';

interface TableInfo {
  readonly keys: readonly string[];
  ttlAttribute?: string;
}

/**
 * DynamoDB in memory, for the test driver: dynalite's actions (its parsers of condition, update,
 * key condition and projection expressions, its item size and validation rules) on LevelDB's
 * memory store, plus what dynalite lacks and tributary uses: table streams with the images each
 * write makes (`MemoryStreams`), transactions with cancellation reasons, and time to live.
 * Requests run one at a time, so each write's before and after images are exact.
 *
 * @example
 * ```ts
 * const ddb = new MemoryDynamoDB();
 * await ddb.call('CreateTable', { TableName: 't', KeySchema: [...], AttributeDefinitions: [...], BillingMode: 'PAY_PER_REQUEST' });
 * const { status, body } = await ddb.call('PutItem', { TableName: 't', Item: { id: { S: 'a' } } });
 * ```
 */
export class MemoryDynamoDB {
  private readonly mods: DynaliteModules;
  private readonly store: unknown;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly tables = new Map<string, TableInfo>();
  readonly streams: MemoryStreams;
  /** What the transactions (memory-transactions.ts) use of this table store. */
  private readonly host: TransactionHost = {
    keysOf: async (table) => (await this.info(table)).keys,
    get: (table, key) => this.get(table, key),
    action: (operation, body) => this.action(operation, body),
    streamed: (table) => this.streamed(table),
    record: (table, keys, before, after) => this.streams.record(table, keys, before, after),
    mods: () => this.mods,
  };

  /**
   * `onWait` runs while a table change waits on dynalite's 0 ms timer: under a virtual clock it
   * fires the timers due now, which would otherwise never come.
   */
  constructor(private readonly opts: { readonly region?: string; readonly onWait?: () => void } = {}) {
    this.mods = dynalite();
    this.store = this.mods.db.create({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    this.streams = new MemoryStreams(opts.region ?? 'us-east-1');
  }

  /** Answers one request (`operation` as in `X-Amz-Target`), after every request before it. */
  call(operation: string, body: Record<string, unknown>): Promise<WireAnswer> {
    const run = this.queue.then(() => this.answer(operation, body));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async answer(operation: string, body: Record<string, unknown>): Promise<WireAnswer> {
    try {
      switch (operation) {
        case 'CreateTable':
          return await this.createTable(body);
        case 'DescribeTable':
          return await this.describeTable(body);
        case 'UpdateTable':
          return await this.updateTable(body);
        case 'DeleteTable':
          return await this.deleteTable(body);
        case 'PutItem':
        case 'UpdateItem':
        case 'DeleteItem':
          return await this.singleWrite(operation, body);
        case 'BatchWriteItem':
          return await this.batchWrite(body);
        case 'TransactWriteItems':
          return await transactWrite(this.host, body);
        case 'TransactGetItems':
          return await transactGet(this.host, body);
        case 'UpdateTimeToLive':
          return this.updateTtl(body);
        case 'DescribeTimeToLive':
          return this.describeTtl(body);
        default:
          if (!DYNALITE_OPERATIONS.has(operation))
            return ddbError(400, 'UnknownOperationException', `the test driver does not implement ${operation}`);
          return { status: 200, body: await this.action(operation, body) };
      }
    } catch (e) {
      if (isDynaliteError(e)) return { status: e.statusCode, body: e.body };
      throw e;
    }
  }

  /** Runs a dynalite action on a body of the caller's that it may change (every caller builds or parses one afresh). */
  private action(operation: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    return runAction(this.mods, this.store, operation, body);
  }

  /** Whether writes to the table make stream records (and so need their before and after images). */
  private streamed(table: string): boolean {
    return this.streams.of(table)?.enabled === true;
  }

  private async createTable(body: Record<string, unknown>): Promise<WireAnswer> {
    const name = String(body.TableName);
    const keys = keysOf(body);
    const spec = body.StreamSpecification as { StreamEnabled?: boolean; StreamViewType?: StreamViewType } | undefined;
    const out = await this.action('CreateTable', body);
    await this.settled(name);
    this.tables.set(name, { keys });
    const desc = out.TableDescription as Record<string, unknown>;
    if (spec?.StreamEnabled) this.streams.enable(name, spec.StreamViewType ?? 'NEW_AND_OLD_IMAGES');
    return { status: 200, body: { TableDescription: this.withStream(name, { ...desc, TableStatus: 'ACTIVE' }) } };
  }

  private async describeTable(body: Record<string, unknown>): Promise<WireAnswer> {
    const out = await this.action('DescribeTable', body);
    const desc = out.Table as Record<string, unknown>;
    return { status: 200, body: { Table: this.withStream(String(body.TableName), desc) } };
  }

  private async updateTable(body: Record<string, unknown>): Promise<WireAnswer> {
    const name = String(body.TableName);
    const spec = body.StreamSpecification as { StreamEnabled?: boolean; StreamViewType?: StreamViewType } | undefined;
    const rest = { ...body };
    delete rest.StreamSpecification;
    let desc: Record<string, unknown>;
    if (Object.keys(rest).some((k) => k !== 'TableName')) {
      await this.action('UpdateTable', rest);
      desc = await this.settled(name);
    } else desc = (await this.action('DescribeTable', { TableName: name })).Table as Record<string, unknown>;
    if (spec) {
      if (spec.StreamEnabled) this.streams.enable(name, spec.StreamViewType ?? 'NEW_AND_OLD_IMAGES');
      else this.streams.disable(name);
    }
    return { status: 200, body: { TableDescription: this.withStream(name, desc) } };
  }

  private async deleteTable(body: Record<string, unknown>): Promise<WireAnswer> {
    const name = String(body.TableName);
    const out = await this.action('DeleteTable', body);
    await this.settled(name);
    this.tables.delete(name);
    this.streams.disable(name);
    return { status: 200, body: out };
  }

  /**
   * Waits out dynalite's CREATING, UPDATING or DELETING state (a timer of 0 ms): DynamoDB Local's
   * tables are ACTIVE at once too. Returns the table's description, or {} once deleted.
   */
  private async settled(name: string): Promise<Record<string, unknown>> {
    for (;;) {
      let desc: Record<string, unknown>;
      try {
        desc = (await this.action('DescribeTable', { TableName: name })).Table as Record<string, unknown>;
      } catch (e) {
        if (isDynaliteError(e) && e.body.__type.endsWith('ResourceNotFoundException')) return {};
        throw e;
      }
      if (desc.TableStatus === 'ACTIVE') return desc;
      this.opts.onWait?.();
      await new Promise((r) => setImmediate(r));
    }
  }

  private withStream(name: string, desc: Record<string, unknown>): Record<string, unknown> {
    const s = this.streams.of(name);
    return s
      ? {
          ...desc,
          StreamSpecification: { StreamEnabled: true, StreamViewType: s.viewType },
          LatestStreamArn: s.arn,
          LatestStreamLabel: s.label,
        }
      : desc;
  }

  /** PutItem, UpdateItem or DeleteItem, with the stream record of what it changed. */
  private async singleWrite(operation: string, body: Record<string, unknown>): Promise<WireAnswer> {
    const table = String(body.TableName);
    if (!this.streamed(table)) return { status: 200, body: await this.action(operation, body) };
    const info = await this.info(table);
    const key = operation === 'PutItem' ? pickKey(body.Item as WireItem, info.keys) : (body.Key as WireItem);
    const before = await this.get(table, key);
    const out = await this.action(operation, body);
    const after = await this.get(table, key);
    this.streams.record(table, info.keys, before, after);
    return { status: 200, body: out };
  }

  private async batchWrite(body: Record<string, unknown>): Promise<WireAnswer> {
    const requests = body.RequestItems as Record<
      string,
      { PutRequest?: { Item: WireItem }; DeleteRequest?: { Key: WireItem } }[]
    >;
    const keys: { table: string; keys: readonly string[]; key: WireItem }[] = [];
    for (const [table, reqs] of Object.entries(requests)) {
      if (!this.streamed(table)) continue;
      const info = await this.info(table);
      for (const r of reqs)
        keys.push({
          table,
          keys: info.keys,
          key: r.PutRequest ? pickKey(r.PutRequest.Item, info.keys) : r.DeleteRequest!.Key,
        });
    }
    const before = await Promise.all(keys.map((k) => this.get(k.table, k.key)));
    const out = await this.action('BatchWriteItem', body);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      this.streams.record(k.table, k.keys, before[i], await this.get(k.table, k.key));
    }
    return { status: 200, body: { UnprocessedItems: {}, ...out } };
  }

  private updateTtl(body: Record<string, unknown>): WireAnswer {
    const table = String(body.TableName);
    const spec = body.TimeToLiveSpecification as { Enabled: boolean; AttributeName: string };
    const info = this.tables.get(table);
    if (!info) return ddbError(400, 'ResourceNotFoundException', 'Requested resource not found');
    info.ttlAttribute = spec.Enabled ? spec.AttributeName : undefined;
    return { status: 200, body: { TimeToLiveSpecification: spec } };
  }

  private describeTtl(body: Record<string, unknown>): WireAnswer {
    const info = this.tables.get(String(body.TableName));
    if (!info) return ddbError(400, 'ResourceNotFoundException', 'Requested resource not found');
    return {
      status: 200,
      body: {
        TimeToLiveDescription: info.ttlAttribute
          ? { TimeToLiveStatus: 'ENABLED', AttributeName: info.ttlAttribute }
          : { TimeToLiveStatus: 'DISABLED' },
      },
    };
  }

  /**
   * Deletes the items whose time-to-live attribute is at or before `nowSeconds`, as DynamoDB's
   * TTL process does: each removal is a stream record with the service as its user identity.
   * Returns how many it removed.
   */
  expire(table: string, nowSeconds: number): Promise<number> {
    const run = this.queue.then(async () => {
      const info = await this.info(table);
      if (!info.ttlAttribute) return 0;
      let removed = 0;
      let start: WireItem | undefined;
      do {
        const page = await this.action('Scan', { TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) });
        for (const item of (page.Items as WireItem[] | undefined) ?? []) {
          const ttl = item[info.ttlAttribute]?.N;
          if (ttl === undefined || Number(ttl) > nowSeconds) continue;
          const key = pickKey(item, info.keys);
          await this.action('DeleteItem', { TableName: table, Key: key });
          this.streams.record(table, info.keys, item, undefined, { ttl: true });
          removed++;
        }
        start = page.LastEvaluatedKey as WireItem | undefined;
      } while (start);
      return removed;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** An item as the table holds it now. */
  async get(table: string, key: WireItem): Promise<WireItem | undefined> {
    const out = await this.action('GetItem', { TableName: table, Key: key, ConsistentRead: true });
    return out.Item as WireItem | undefined;
  }

  private async info(table: string): Promise<TableInfo> {
    let info = this.tables.get(table);
    if (!info) {
      const out = await this.action('DescribeTable', { TableName: table });
      info = { keys: keysOf(out.Table as Record<string, unknown>) };
      this.tables.set(table, info);
    }
    return info;
  }
}

const keysOf = (desc: Record<string, unknown>): string[] =>
  ((desc.KeySchema as { AttributeName: string }[] | undefined) ?? []).map((k) => k.AttributeName);
