import { capacityByTable } from './consumed.js';
import { getUnits } from './estimate.js';
import { answer, parseJson, type Exchange } from './exchange.js';
import { blockedLane, lane, refundAll, split, type Lane } from './lanes.js';
import { relay, throughputExceeded } from './replies.js';
import { isObject, tableNameOf, type Item, type Json } from './wire.js';

/**
 * BatchGetItem: forwards only the keys the read budgets afford and returns the others as
 * UnprocessedKeys (with the table's projection and consistency, as DynamoDB does), merged with
 * DynamoDB Local's own. When no key at all can go, answers ProvisionedThroughputExceededException.
 */
export async function batchGet(x: Exchange): Promise<void> {
  const requestItems = x.body.RequestItems;
  if (!isObject(requestItems) || !Object.values(requestItems).every((v) => isObject(v) && Array.isArray(v.Keys))) return x.upstream.pipe(x.req, x.res, x.raw);
  const specs = requestItems as Record<string, Json & { Keys: Item[] }>;
  const lanes: Lane<Item>[] = [];
  for (const key of Object.keys(specs)) lanes.push(lane(key, await x.meter(tableNameOf(key))));
  if (lanes.every((l) => !l.meter)) return x.upstream.pipe(x.req, x.res, x.raw);

  for (const l of lanes) {
    l.meter?.countRequest();
    const units = getUnits(specs[l.key]!.ConsistentRead === true);
    split(l, specs[l.key]!.Keys, 'read', () => units);
  }
  const sending = lanes.filter((l) => l.send.length > 0);
  if (sending.length === 0) {
    // Nothing held back either (empty lists): let DynamoDB Local answer the invalid request.
    if (lanes.every((l) => l.held.length === 0)) return x.upstream.pipe(x.req, x.res, x.raw);
    for (const l of lanes) l.meter?.countThrottled(l.block, l.held.length);
    const { meter, block } = blockedLane(lanes);
    return throughputExceeded(x.res, meter, block);
  }

  const body: Json = { ...x.body, RequestItems: Object.fromEntries(sending.map((l) => [l.key, { ...specs[l.key], Keys: l.send }])), ReturnConsumedCapacity: 'INDEXES' };
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
  const unprocessed: Json = isObject(json.UnprocessedKeys) ? json.UnprocessedKeys : {};
  for (const l of lanes) {
    if (!l.meter) continue;
    const theirs = isObject(unprocessed[l.key]) ? (unprocessed[l.key] as { Keys?: Item[] }) : undefined;
    const theirKeys = Array.isArray(theirs?.Keys) ? theirs.Keys : [];
    // DynamoDB Local charges nothing for keys it does not find; DynamoDB charges each key at least half a unit.
    l.meter.settle(l.reserved, consumed.get(l.meter.table), true);
    l.meter.countOutcome(l.send.length - theirKeys.length, theirKeys.length + l.held.length, l.held.length > 0);
    if (l.held.length > 0) unprocessed[l.key] = { ...specs[l.key], ...theirs, Keys: [...theirKeys, ...l.held] };
  }
  json.UnprocessedKeys = unprocessed;
  answer(x, up, json, lanes.some((l) => l.held.length > 0));
}
