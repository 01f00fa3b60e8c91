import { ddbError, decodeIterator, type WireAnswer } from './wire.js';

/** How a faulty table or stream answers. */
export type FaultKind = 'throttle' | 'fail';

/** How long a fault lasts; with neither field, until {@link Faults.clear}. */
export interface FaultSpan {
  /** Virtual milliseconds from now. */
  readonly forMs?: number;
  /** The next this many requests that touch the table or stream. */
  readonly calls?: number;
}

interface Rule {
  readonly kind: FaultKind;
  readonly until?: number;
  calls?: number;
}

type Body = Record<string, unknown>;
type Next = (body: Body) => Promise<WireAnswer>;

const THROTTLED = 'The level of configured provisioned throughput for the table was exceeded';

/**
 * Faults the test injects into the in-process services: a table or stream that throttles
 * (answers as DynamoDB and Kinesis do when over capacity: `ProvisionedThroughputExceededException`,
 * unprocessed items of a batch, `ThrottlingError` in a transaction's cancellation reasons, failed
 * records of a `PutRecords`) or fails (HTTP 500), for a span of virtual time or a number of calls.
 *
 * @example
 * ```ts
 * driver.faults.throttle('shop_per_customer', { forMs: 5_000 });
 * driver.faults.fail('clicks', { calls: 3 });
 * ```
 */
export class Faults {
  private readonly rules = new Map<string, Rule>();
  private readonly hits = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  /** Makes requests touching `target` (a table or Kinesis stream name) throttle. */
  throttle(target: string, span: FaultSpan = {}): void {
    this.set(target, 'throttle', span);
  }

  /** Makes requests touching `target` fail with an internal server error (HTTP 500). */
  fail(target: string, span: FaultSpan = {}): void {
    this.set(target, 'fail', span);
  }

  /** Ends the fault on `target`, or every fault. */
  clear(target?: string): void {
    if (target === undefined) this.rules.clear();
    else this.rules.delete(target);
  }

  /** Requests a fault answered (or trimmed) on `target` so far. */
  injected(target: string): number {
    return this.hits.get(target) ?? 0;
  }

  /** Answers a DynamoDB request, faulting what touches a faulty table. */
  async dynamodb(operation: string, body: Body, next: Next): Promise<WireAnswer> {
    if (this.rules.size === 0) return next(body);
    switch (operation) {
      case 'BatchWriteItem':
        return this.batch(body, 'UnprocessedItems', next);
      case 'BatchGetItem':
        return this.batch(body, 'UnprocessedKeys', next);
      case 'TransactWriteItems':
      case 'TransactGetItems':
        return this.transaction(body, next);
      default: {
        const table = typeof body.TableName === 'string' ? body.TableName : undefined;
        const kind = table === undefined ? undefined : this.take(table);
        if (kind === 'fail') return ddbError(500, 'InternalServerError', 'Internal server error (injected)');
        if (kind === 'throttle') return ddbError(400, 'ProvisionedThroughputExceededException', THROTTLED);
        return next(body);
      }
    }
  }

  /** Answers a Kinesis request, faulting what touches a faulty stream. */
  async kinesis(operation: string, body: Body, next: (body: Body) => WireAnswer): Promise<WireAnswer> {
    const stream =
      typeof body.StreamName === 'string'
        ? body.StreamName
        : (streamOfArn(body.StreamARN) ?? streamOfIterator(body.ShardIterator));
    const kind = stream === undefined || this.rules.size === 0 ? undefined : this.take(stream);
    if (kind === 'fail') return { status: 500, body: { __type: 'InternalFailure', message: 'injected' } };
    if (kind === 'throttle' && operation === 'PutRecords') {
      // Kinesis throttles a PutRecords record by record, in a 200 answer.
      const records = (body.Records as unknown[]) ?? [];
      const failed = records.map(() => ({
        ErrorCode: 'ProvisionedThroughputExceededException',
        ErrorMessage: 'Rate exceeded for shard (injected)',
      }));
      return { status: 200, body: { FailedRecordCount: records.length, Records: failed } };
    }
    if (kind === 'throttle')
      return {
        status: 400,
        body: { __type: 'ProvisionedThroughputExceededException', message: 'Rate exceeded for shard (injected)' },
      };
    return next(body);
  }

  /** A batch: a throttled table's part comes back unprocessed; all of it throttled is an error, as on DynamoDB. */
  private async batch(body: Body, unprocessed: string, next: Next): Promise<WireAnswer> {
    const requests = (body.RequestItems ?? {}) as Body;
    const kept: Body = {};
    const held: Body = {};
    for (const [table, part] of Object.entries(requests)) {
      const kind = this.take(table);
      if (kind === 'fail') return ddbError(500, 'InternalServerError', 'Internal server error (injected)');
      (kind === 'throttle' ? held : kept)[table] = part;
    }
    if (Object.keys(held).length === 0) return next(body);
    if (Object.keys(kept).length === 0) return ddbError(400, 'ProvisionedThroughputExceededException', THROTTLED);
    const answer = await next({ ...body, RequestItems: kept });
    if (answer.status !== 200) return answer;
    const already = (answer.body[unprocessed] ?? {}) as Body;
    return { status: 200, body: { ...answer.body, [unprocessed]: { ...already, ...held } } };
  }

  /** A transaction touching a throttled table is cancelled with `ThrottlingError` for its items there. */
  private async transaction(body: Body, next: Next): Promise<WireAnswer> {
    const items = (body.TransactItems ?? []) as Body[];
    const tables = items.map((i) => String((Object.values(i)[0] as Body | undefined)?.TableName ?? ''));
    const kinds = new Map([...new Set(tables)].map((t) => [t, this.take(t)]));
    if ([...kinds.values()].includes('fail'))
      return ddbError(500, 'InternalServerError', 'Internal server error (injected)');
    if (![...kinds.values()].includes('throttle')) return next(body);
    const reasons = tables.map((t) =>
      kinds.get(t) === 'throttle'
        ? { Code: 'ThrottlingError', Message: 'Throughput exceeds the current capacity of your table or index.' }
        : { Code: 'None' },
    );
    return ddbError(
      400,
      'TransactionCanceledException',
      `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
      { CancellationReasons: reasons },
    );
  }

  private set(target: string, kind: FaultKind, span: FaultSpan): void {
    this.rules.set(target, {
      kind,
      ...(span.forMs !== undefined ? { until: this.now() + span.forMs } : {}),
      ...(span.calls !== undefined ? { calls: span.calls } : {}),
    });
  }

  /** The fault a request touching `target` meets now, counting it against the fault's calls. */
  private take(target: string): FaultKind | undefined {
    const rule = this.rules.get(target);
    if (!rule) return undefined;
    if ((rule.until !== undefined && this.now() >= rule.until) || rule.calls === 0) {
      this.rules.delete(target);
      return undefined;
    }
    if (rule.calls !== undefined) rule.calls--;
    this.hits.set(target, (this.hits.get(target) ?? 0) + 1);
    return rule.kind;
  }
}

const streamOfArn = (arn: unknown): string | undefined =>
  typeof arn === 'string' ? /:stream\/([^/]+)$/.exec(arn)?.[1] : undefined;

/** The stream a `GetRecords` reads: the memory Kinesis's iterators name it. */
const streamOfIterator = (token: unknown): string | undefined => {
  const stream = decodeIterator<{ stream: string }>(token)?.stream;
  return typeof stream === 'string' ? stream : undefined;
};
