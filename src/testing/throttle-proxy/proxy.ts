import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { systemClock } from '../../core/clock.js';
import { TributaryError } from '../../core/errors.js';
import { batchGet } from './batch-get.js';
import { batchWrite } from './batch-write.js';
import { BudgetBook } from './budgets.js';
import { parseJson, type Exchange } from './exchange.js';
import type { ThrottleProxy, ThrottleProxyOptions } from './options.js';
import { relay } from './replies.js';
import { SINGLE_OPS, singleOp } from './single-ops.js';
import { transactGet, transactWrite } from './transactions.js';
import { failed, Upstream } from './upstream.js';

type Handler = (x: Exchange, book: BudgetBook, op: string) => Promise<void>;

const HANDLERS: Readonly<Record<string, Handler>> = {
  ...Object.fromEntries(Object.entries(SINGLE_OPS).map(([name, op]) => [name, (x: Exchange) => singleOp(x, op)])),
  BatchWriteItem: batchWrite,
  BatchGetItem: batchGet,
  TransactWriteItems: transactWrite,
  TransactGetItems: transactGet,
  UpdateTable: tableChange,
  CreateTable: tableChange,
  DeleteTable: tableChange,
};

const PREFIX = 'DynamoDB_20120810.';

/**
 * Starts an HTTP proxy in front of DynamoDB Local that enforces per-table read and write
 * budgets and answers over budget as DynamoDB does: `ProvisionedThroughputExceededException`
 * (HTTP 400), UnprocessedItems / UnprocessedKeys for the part of a batch over budget, and
 * `TransactionCanceledException` with `ProvisionedThroughputExceeded` reasons for transactions.
 * Refused requests never reach the target. Everything else (control plane, DynamoDB Streams,
 * PartiQL, tables without a budget) goes through untouched, streamed both ways.
 *
 * Costs are DynamoDB's: 1 WCU per started KB written, 1 RCU per started 4 KB read strongly
 * consistent (half eventually consistent), transactions double. The proxy reserves an estimate
 * from the request before forwarding and settles it to the capacity DynamoDB Local reports
 * (asked for with `ReturnConsumedCapacity: 'INDEXES'`, then cut back to what the client asked).
 * A write also draws each GSI's share from that GSI's budget.
 *
 * DynamoDB Local does not check signatures, so the proxy may rewrite bodies; it is for emulators only.
 *
 * @example
 * ```ts
 * const proxy = await startThrottleProxy({ target: endpoints.dynamodb, tables: { orders: { wcu: 100, rcu: 50 } } });
 * const ddb = new DynamoDBClient({ endpoint: proxy.endpoint, region: 'us-east-1', credentials });
 * // ... write as fast as you like ...
 * const s = proxy.stats('orders');
 * console.log(s.consumedWcu / (s.elapsedMs / 1000), 'WCU/s', s.unprocessedItems, 'unprocessed');
 * await proxy.stop();
 * ```
 */
export async function startThrottleProxy(opts: ThrottleProxyOptions): Promise<ThrottleProxy> {
  const windowSeconds = opts.burst ? (opts.burst.seconds ?? 300) : 1;
  if (!(windowSeconds >= 1))
    throw new TributaryError(
      'config.invalid',
      `throttle proxy: burst.seconds must be at least 1, got ${windowSeconds}`,
    );
  const upstream = new Upstream(opts.target);
  const clock = opts.clock ?? systemClock;
  const book = new BudgetBook(upstream, {
    tables: opts.tables ?? {},
    defaultBudget: opts.defaultBudget ?? 'none',
    buckets: { windowSeconds, now: () => clock.now() },
  });

  const server = createServer((req, res) => {
    route(req, res, upstream, book).catch((e: unknown) => failed(res, e));
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (e) =>
      reject(
        new TributaryError('testing.throttleProxy', `throttle proxy could not listen: ${e.message}`, {
          cause: e,
        }),
      ),
    );
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : 0);
    });
  });

  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats: (table) => book.stats(table),
    resetStats: (table) => book.resetStats(table),
    setBudget: (table, budget) => book.set(table, budget),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        upstream.destroy();
      }),
  };
}

async function route(req: IncomingMessage, res: ServerResponse, upstream: Upstream, book: BudgetBook): Promise<void> {
  const target = req.headers['x-amz-target'];
  const op = typeof target === 'string' && target.startsWith(PREFIX) ? target.slice(PREFIX.length) : undefined;
  const handler = op !== undefined && Object.hasOwn(HANDLERS, op) ? HANDLERS[op] : undefined;
  if (!handler || req.method !== 'POST') return upstream.pipe(req, res);
  const raw = await readBody(req);
  const body = parseJson(raw);
  if (!body) return upstream.pipe(req, res, raw);
  const authorization = req.headers.authorization;
  await handler({ req, res, raw, body, upstream, meter: (table) => book.meter(table, authorization) }, book, op!);
}

/** UpdateTable, CreateTable, DeleteTable: forwarded; a provisioned budget follows the table. */
async function tableChange(x: Exchange, book: BudgetBook, op: string): Promise<void> {
  const up = await x.upstream.send(x.req, x.raw);
  const table = typeof x.body.TableName === 'string' ? x.body.TableName : undefined;
  if (up.status === 200 && table !== undefined) {
    if (op === 'UpdateTable') await book.tableUpdated(table, x.req.headers.authorization);
    else book.tableReplaced(table);
  }
  relay(x.res, up);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
