import { forwardBatch } from './batch-forward.js';
import { getUnits } from './estimate.js';
import type { Exchange } from './exchange.js';
import { lane, split, type Lane } from './lanes.js';
import { isObject, tableNameOf, type Item, type Json } from './wire.js';

/**
 * BatchGetItem: forwards only the keys the read budgets afford and returns the others as
 * UnprocessedKeys (with the table's projection and consistency, as DynamoDB does), merged with
 * DynamoDB Local's own. When no key at all can go, answers ProvisionedThroughputExceededException.
 */
export async function batchGet(x: Exchange): Promise<void> {
  const requestItems = x.body.RequestItems;
  if (!isObject(requestItems) || !Object.values(requestItems).every((v) => isObject(v) && Array.isArray(v.Keys)))
    return x.upstream.pipe(x.req, x.res, x.raw);
  const specs = requestItems as Record<string, Json & { Keys: Item[] }>;
  const lanes: Lane<Item>[] = [];
  for (const key of Object.keys(specs)) lanes.push(lane(key, await x.meter(tableNameOf(key))));
  if (lanes.every((l) => !l.meter)) return x.upstream.pipe(x.req, x.res, x.raw);

  for (const l of lanes) {
    l.meter?.countRequest();
    const units = getUnits(specs[l.key]!.ConsistentRead === true);
    split(l, specs[l.key]!.Keys, 'read', () => units);
  }
  return forwardBatch(x, lanes, {
    request: (l) => ({ ...specs[l.key], Keys: l.send }),
    unprocessedField: 'UnprocessedKeys',
    merge: (l, entry) => {
      const theirs = isObject(entry) ? (entry as { Keys?: Item[] }) : undefined;
      const theirKeys = Array.isArray(theirs?.Keys) ? theirs.Keys : [];
      return { theirCount: theirKeys.length, merged: { ...specs[l.key], ...theirs, Keys: [...theirKeys, ...l.held] } };
    },
    // DynamoDB Local charges nothing for keys it does not find; DynamoDB charges each key at least half a unit.
    atLeastEstimate: true,
  });
}
