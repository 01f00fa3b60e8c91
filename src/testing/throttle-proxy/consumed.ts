import { isObject, tableNameOf, type CapacityLevel, type Json, type WireCapacity } from './wire.js';

/**
 * The proxy asks DynamoDB Local for `ReturnConsumedCapacity: 'INDEXES'` on every metered request,
 * so that it can debit what was really consumed (the stored item's size for updates and deletes,
 * each GSI's share), then gives the client only what it asked for.
 */

/** The level the client asked for; absent means `NONE`. */
export function requestedLevel(body: Json): CapacityLevel {
  const v = body.ReturnConsumedCapacity;
  return v === 'INDEXES' || v === 'TOTAL' ? v : 'NONE';
}

/** The request body to forward: `body` with `ReturnConsumedCapacity: 'INDEXES'`. */
export function withIndexes(body: Json): Buffer {
  return Buffer.from(JSON.stringify({ ...body, ReturnConsumedCapacity: 'INDEXES' }));
}

/** What an answer reports, per table (a single entry, or a list for batches and transactions). */
export function capacityByTable(answer: Json): Map<string, WireCapacity> {
  const out = new Map<string, WireCapacity>();
  const c = answer.ConsumedCapacity;
  for (const e of Array.isArray(c) ? c : c === undefined ? [] : [c]) {
    if (isObject(e) && typeof e.TableName === 'string') out.set(tableNameOf(e.TableName), e as WireCapacity);
  }
  return out;
}

/** Cuts the answer's ConsumedCapacity down to the client's level, in place. */
export function reduceCapacity(answer: Json, level: CapacityLevel): void {
  if (level === 'INDEXES' || answer.ConsumedCapacity === undefined) return;
  if (level === 'NONE') {
    delete answer.ConsumedCapacity;
    return;
  }
  const total = (e: unknown) => {
    if (!isObject(e)) return e;
    const { Table: _t, GlobalSecondaryIndexes: _g, LocalSecondaryIndexes: _l, ...rest } = e;
    return rest;
  };
  const c = answer.ConsumedCapacity;
  answer.ConsumedCapacity = Array.isArray(c) ? c.map(total) : total(c);
}
