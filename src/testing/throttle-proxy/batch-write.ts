import { forwardBatch } from './batch-forward.js';
import { writeRequestUnits } from './estimate.js';
import type { Exchange } from './exchange.js';
import { lane, split, type Lane } from './lanes.js';
import { isObject, tableNameOf, type WriteRequest } from './wire.js';

/**
 * BatchWriteItem: forwards only the items the budgets afford and returns the others as
 * UnprocessedItems, merged with DynamoDB Local's own. When no item at all can go, answers
 * ProvisionedThroughputExceededException, as DynamoDB does.
 */
export async function batchWrite(x: Exchange): Promise<void> {
  const requestItems = x.body.RequestItems;
  if (!isObject(requestItems) || !Object.values(requestItems).every(Array.isArray))
    return x.upstream.pipe(x.req, x.res, x.raw);
  const lanes: Lane<WriteRequest>[] = [];
  for (const key of Object.keys(requestItems)) lanes.push(lane(key, await x.meter(tableNameOf(key))));
  if (lanes.every((l) => !l.meter)) return x.upstream.pipe(x.req, x.res, x.raw);

  for (const l of lanes) {
    l.meter?.countRequest();
    split(l, requestItems[l.key] as WriteRequest[], 'write', writeRequestUnits);
  }
  return forwardBatch(x, lanes, {
    request: (l) => l.send,
    unprocessedField: 'UnprocessedItems',
    merge: (l, entry) => {
      const theirs = Array.isArray(entry) ? (entry as WriteRequest[]) : [];
      return { theirCount: theirs.length, merged: [...theirs, ...l.held] };
    },
    atLeastEstimate: false,
  });
}
