import { capacityByTable } from './consumed.js';
import { writeRequestUnits } from './estimate.js';
import { answer, parseJson, type Exchange } from './exchange.js';
import { blockedLane, lane, refundAll, split, type Lane } from './lanes.js';
import { relay, throughputExceeded } from './replies.js';
import { isObject, tableNameOf, type Json, type WriteRequest } from './wire.js';

/**
 * BatchWriteItem: forwards only the items the budgets afford and returns the others as
 * UnprocessedItems, merged with DynamoDB Local's own. When no item at all can go, answers
 * ProvisionedThroughputExceededException, as DynamoDB does.
 */
export async function batchWrite(x: Exchange): Promise<void> {
  const requestItems = x.body.RequestItems;
  if (!isObject(requestItems) || !Object.values(requestItems).every(Array.isArray)) return x.upstream.pipe(x.req, x.res, x.raw);
  const lanes: Lane<WriteRequest>[] = [];
  for (const key of Object.keys(requestItems)) lanes.push(lane(key, await x.meter(tableNameOf(key))));
  if (lanes.every((l) => !l.meter)) return x.upstream.pipe(x.req, x.res, x.raw);

  for (const l of lanes) {
    l.meter?.countRequest();
    split(l, requestItems[l.key] as WriteRequest[], 'write', writeRequestUnits);
  }
  const sending = lanes.filter((l) => l.send.length > 0);
  if (sending.length === 0) {
    // Nothing held back either (empty lists): let DynamoDB Local answer the invalid request.
    if (lanes.every((l) => l.held.length === 0)) return x.upstream.pipe(x.req, x.res, x.raw);
    for (const l of lanes) l.meter?.countThrottled(l.block, l.held.length);
    const { meter, block } = blockedLane(lanes);
    return throughputExceeded(x.res, meter, block);
  }

  const body: Json = { ...x.body, RequestItems: Object.fromEntries(sending.map((l) => [l.key, l.send])), ReturnConsumedCapacity: 'INDEXES' };
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
  const unprocessed: Json = isObject(json.UnprocessedItems) ? json.UnprocessedItems : {};
  for (const l of lanes) {
    if (!l.meter) continue;
    const theirs = Array.isArray(unprocessed[l.key]) ? (unprocessed[l.key] as WriteRequest[]) : [];
    l.meter.settle(l.reserved, consumed.get(l.meter.table));
    l.meter.countOutcome(l.send.length - theirs.length, theirs.length + l.held.length, l.held.length > 0);
    if (l.held.length > 0) unprocessed[l.key] = [...theirs, ...l.held];
  }
  json.UnprocessedItems = unprocessed;
  answer(x, up, json, lanes.some((l) => l.held.length > 0));
}
