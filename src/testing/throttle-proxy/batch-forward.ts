import { capacityByTable } from './consumed.js';
import { answer, parseJson, type Exchange } from './exchange.js';
import { blockedLane, refundAll, type Lane } from './lanes.js';
import { relay, throughputExceeded } from './replies.js';
import { isObject, type Json } from './wire.js';

/** How one batch operation (BatchGetItem, BatchWriteItem) names and shapes its parts. */
export interface BatchShape<T> {
  /** What `RequestItems[lane.key]` holds for the entries a lane sends on. */
  readonly request: (l: Lane<T>) => unknown;
  /** The answer's field of entries left unprocessed, by table key. */
  readonly unprocessedField: 'UnprocessedKeys' | 'UnprocessedItems';
  /** How many entries DynamoDB Local left unprocessed in `theirs`, and those merged with the lane's held ones. */
  readonly merge: (l: Lane<T>, theirs: unknown) => { readonly theirCount: number; readonly merged: unknown };
  /** Settle at no less than the estimate (reads: DynamoDB charges a key it does not find). */
  readonly atLeastEstimate: boolean;
}

/**
 * The second half of a metered batch, once its lanes are split: refuses it whole when nothing can
 * go (ProvisionedThroughputExceededException, as DynamoDB does), else forwards what the budgets
 * afford, settles each table's reservations with what DynamoDB Local reports, and answers with the
 * held-back entries merged into the unprocessed ones.
 */
export async function forwardBatch<T>(x: Exchange, lanes: readonly Lane<T>[], shape: BatchShape<T>): Promise<void> {
  const sending = lanes.filter((l) => l.send.length > 0);
  if (sending.length === 0) {
    // Nothing held back either (empty lists): let DynamoDB Local answer the invalid request.
    if (lanes.every((l) => l.held.length === 0)) return x.upstream.pipe(x.req, x.res, x.raw);
    for (const l of lanes) l.meter?.countThrottled(l.block, l.held.length);
    const { meter, block } = blockedLane(lanes);
    return throughputExceeded(x.res, meter, block);
  }

  const body: Json = {
    ...x.body,
    RequestItems: Object.fromEntries(sending.map((l) => [l.key, shape.request(l)])),
    ReturnConsumedCapacity: 'INDEXES',
  };
  const up = await x.upstream.send(x.req, Buffer.from(JSON.stringify(body))).catch((e: unknown) => {
    refundAll(lanes);
    throw e;
  });
  const json = up.status === 200 ? parseJson(up.body) : undefined;
  if (!json) {
    refundAll(lanes);
    return relay(x.res, up);
  }

  const consumed = capacityByTable(json);
  const field = json[shape.unprocessedField];
  const unprocessed: Json = isObject(field) ? field : {};
  for (const l of lanes) {
    if (!l.meter) continue;
    const { theirCount, merged } = shape.merge(l, unprocessed[l.key]);
    l.meter.settle(l.reserved, consumed.get(l.meter.table), shape.atLeastEstimate);
    l.meter.countOutcome(l.send.length - theirCount, theirCount + l.held.length, l.held.length > 0);
    if (l.held.length > 0) unprocessed[l.key] = merged;
  }
  json[shape.unprocessedField] = unprocessed;
  answer(
    x,
    up,
    json,
    lanes.some((l) => l.held.length > 0),
  );
}
