import { capacityByTable, withIndexes } from './consumed.js';
import { deleteUnits, getUnits, pageUnits, putUnits, updateUnits } from './estimate.js';
import { answer, errorType, parseJson, type Exchange } from './exchange.js';
import { relay, throughputExceeded } from './replies.js';
import type { Kind } from './table-meter.js';
import { isObject, tableNameOf, type Item, type Json } from './wire.js';

interface SingleOp {
  readonly kind: Kind;
  readonly estimate: (body: Json) => number;
}

const item = (v: unknown): Item | undefined => (isObject(v) ? (v as Item) : undefined);
const consistent = (body: Json) => body.ConsistentRead === true;

/** Operations on one item or one table, and what they are estimated to cost. */
export const SINGLE_OPS: Readonly<Record<string, SingleOp>> = {
  PutItem: { kind: 'write', estimate: (b) => putUnits(item(b.Item)) },
  UpdateItem: { kind: 'write', estimate: (b) => updateUnits(item(b.Key), item(b.ExpressionAttributeValues)) },
  DeleteItem: { kind: 'write', estimate: (b) => deleteUnits(item(b.Key)) },
  GetItem: { kind: 'read', estimate: (b) => getUnits(consistent(b)) },
  Query: { kind: 'read', estimate: (b) => pageUnits(consistent(b)) },
  Scan: { kind: 'read', estimate: (b) => pageUnits(consistent(b)) },
};

/**
 * PutItem, UpdateItem, DeleteItem, GetItem, Query, Scan: refused with
 * ProvisionedThroughputExceededException while the budget is spent; otherwise forwarded with
 * its estimate reserved, then settled to the capacity DynamoDB Local reports.
 */
export async function singleOp(x: Exchange, op: SingleOp): Promise<void> {
  const name = typeof x.body.TableName === 'string' ? x.body.TableName : undefined;
  const meter = name === undefined ? undefined : await x.meter(tableNameOf(name));
  if (!meter) return x.upstream.pipe(x.req, x.res, x.raw);
  meter.countRequest();
  const index = typeof x.body.IndexName === 'string' ? x.body.IndexName : undefined;
  const block = meter.blocked(op.kind, index);
  if (block) {
    meter.countThrottled(block, 1);
    return throughputExceeded(x.res, meter, block);
  }
  const reservation = meter.reserve(op.kind, op.estimate(x.body), index);
  const up = await x.upstream.send(x.req, withIndexes(x.body)).catch((e: unknown) => {
    meter.refund(reservation);
    throw e;
  });
  if (up.status !== 200) {
    // DynamoDB charges a write whose condition failed; other errors cost nothing.
    if (op.kind === 'write' && errorType(up) === 'ConditionalCheckFailedException')
      meter.settle([reservation], undefined);
    else meter.refund(reservation);
    return relay(x.res, up);
  }
  const json = parseJson(up.body);
  meter.settle([reservation], json && capacityByTable(json).get(meter.table));
  meter.countOutcome(1, 0);
  if (!json) return relay(x.res, up);
  answer(x, up, json, false);
}
