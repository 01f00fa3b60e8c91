import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TributaryError } from '../../core/errors.js';
import { itemSize, MAX_ITEM_BYTES } from '../../sinks/item-size.js';
import type { EventKey } from './keys.js';

/** An event as stored: its key, id, time and payload. */
export interface StoredEvent<P> extends EventKey {
  readonly id: string;
  readonly time: Date;
  readonly payload: P;
}

/**
 * The item of a stored event: `pk`, `sk`, `id`, `at` (ISO time) and `payload`. Dates inside the
 * payload are stored as ISO strings. Fails with `sink.itemTooLarge` over DynamoDB's 400 KB.
 */
export function toItem<P>(e: StoredEvent<P>, table: string): Record<string, AttributeValue> {
  const item = marshall(
    { pk: e.pk, sk: e.sk, id: e.id, at: e.time.toISOString(), payload: datesToIso(e.payload) },
    { removeUndefinedValues: true, convertClassInstanceToMap: true },
  ) as Record<string, AttributeValue>;
  const size = itemSize(item);
  if (size > MAX_ITEM_BYTES) {
    throw new TributaryError(
      'sink.itemTooLarge',
      `event '${e.id}' makes an item of ${size} bytes, over DynamoDB's 400 KB limit, for event table '${table}'`,
      { details: { table, id: e.id, size } },
    );
  }
  return item;
}

/** A stored event back from its item. */
export function fromItem<P>(
  item: Record<string, AttributeValue>,
): StoredEvent<P> & { readonly pk: string; readonly sk: string } {
  const o = unmarshall(item) as { pk: string; sk: string; id: string; at: string; payload?: P };
  const [bucket, suffix] = splitPk(o.pk);
  return { pk: o.pk, sk: o.sk, bucket, suffix, id: o.id, time: new Date(o.at), payload: o.payload as P };
}

function splitPk(pk: string): [string, number] {
  const i = pk.lastIndexOf('#');
  return [pk.slice(0, i), Number(pk.slice(i + 1))];
}

function datesToIso(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(datesToIso);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, datesToIso(e)]));
  }
  return v;
}
