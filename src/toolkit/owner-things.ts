import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TributaryError } from '../core/errors.js';
import type { TableSpec } from '../core/tables.js';
import { itemSize } from '../sinks/item-size.js';
import { batch } from './batch.js';
import type { Toolkit } from './context.js';

type Data = Record<string, unknown>;

/** Options of {@link ownerThings}. */
export interface OwnerThingsOptions {
  /** The table's logical name; its keys are `pk` (the owner) and `sk` (`thing#id`, `thing#id#subthing#id`). */
  readonly table: string;
  /** What an owner is, for messages (`user`). */
  readonly owner: string;
  /** The name of a thing in sort keys (`album`). Letters, digits, `_` and `-`. */
  readonly thing: string;
  /** The name of a subthing in sort keys (`photo`). */
  readonly subthing: string;
}

/** A page of a listing, and where the next begins (undefined: the last page). */
export interface Page<T> {
  readonly items: T[];
  readonly cursor?: string;
}

/** Options of a listing. */
export interface ListOptions {
  /** Most items in the page. Default 100. */
  readonly limit?: number;
  /** The `cursor` of the page before. */
  readonly cursor?: string;
}

/** A thing or subthing as stored: its id and its data. */
export type Stored<T> = T & { readonly id: string };

/** See {@link ownerThings}. */
export interface OwnerThings<T extends Data, S extends Data> {
  /** The table, for `tributary tables` and `createAppTables` (through an app's `tables`). */
  tables(): readonly TableSpec[];
  putThing(tk: Toolkit, owner: string, id: string, data: T): Promise<void>;
  getThing(tk: Toolkit, owner: string, id: string): Promise<Stored<T> | undefined>;
  /** Deletes the thing and every subthing of it. */
  deleteThing(tk: Toolkit, owner: string, id: string): Promise<void>;
  /** An owner's things, in id order, without their subthings. */
  listThings(tk: Toolkit, owner: string, options?: ListOptions): Promise<Page<Stored<T>>>;
  putSubthing(tk: Toolkit, owner: string, thingId: string, id: string, data: S): Promise<void>;
  getSubthing(tk: Toolkit, owner: string, thingId: string, id: string): Promise<Stored<S> | undefined>;
  deleteSubthing(tk: Toolkit, owner: string, thingId: string, id: string): Promise<void>;
  /** A thing's subthings, in id order. */
  listSubthings(tk: Toolkit, owner: string, thingId: string, options?: ListOptions): Promise<Page<Stored<S>>>;
}

const NAME = /^[A-Za-z0-9_-]+$/;
/** Ids must not hold the separator, or `album#a#photo#p` could be read two ways. */
const ID = /^[^#]+$/;

/**
 * An owner's things and each thing's subthings, in one table and without a secondary index: the
 * partition key is the owner, the sort key `album#<id>` for a thing and `album#<id>#photo#<id>` for
 * a subthing. A thing's subthings sort right after it, so one Query reads a thing's subthings (or a
 * whole owner), and deleting a thing with its subthings is one Query and batched deletes. A write
 * is one item, with no index to update; listing an owner's things reads their subthings too (the
 * Query cannot skip them) and filters them out, which is the price of having no index. Measured
 * against two tables and a GSI in `npm run bench -- owner-things`.
 *
 * @example
 * ```ts
 * const albums = ownerThings<{ title: string }, { url: string }>({ table: 'albums', owner: 'user', thing: 'album', subthing: 'photo' });
 * await albums.putThing(tk, 'u1', 'a1', { title: 'Lisbon' });
 * await albums.putSubthing(tk, 'u1', 'a1', 'p1', { url: 's3://…' });
 * const { items, cursor } = await albums.listThings(tk, 'u1', { limit: 20 });
 * ```
 */
export function ownerThings<T extends Data, S extends Data>(options: OwnerThingsOptions): OwnerThings<T, S> {
  for (const n of [options.thing, options.subthing])
    if (!NAME.test(n))
      throw new TributaryError('config.invalid', `ownerThings: '${n}' must be letters, digits, _ or -`, {
        details: { name: n },
      });
  const { table, thing, subthing } = options;
  const id = (v: string, what: string) => {
    if (!ID.test(v))
      throw new TributaryError(
        'config.invalid',
        `ownerThings: the ${what} id '${v}' must be non-empty and hold no '#'`,
        {
          details: { id: v },
        },
      );
    return v;
  };
  const thingSk = (t: string) => `${thing}#${id(t, thing)}`;
  const subSk = (t: string, s: string) => `${thingSk(t)}#${subthing}#${id(s, subthing)}`;
  const key = (owner: string, sk: string) => marshall({ pk: id(owner, options.owner), sk });

  const put = async (tk: Toolkit, owner: string, sk: string, data: Data) => {
    const item = marshall({ ...data, pk: owner, sk }, { removeUndefinedValues: true });
    await tk.io(table).put({ Item: item }, units(item));
  };
  const get = async <X extends Data>(tk: Toolkit, owner: string, sk: string, itemId: string) => {
    const [item] = await tk.io(table).batchGet([key(owner, sk)], undefined, true);
    return item ? withId<X>(item, itemId) : undefined;
  };

  /** One page of a Query on `sk` beginning with `prefix`, keeping the rows `keep` accepts. */
  const list = async <X extends Data>(
    tk: Toolkit,
    owner: string,
    prefix: string,
    keep: (sk: string) => string | undefined,
    o: ListOptions,
  ): Promise<Page<Stored<X>>> => {
    const limit = o.limit ?? 100;
    const items: Stored<X>[] = [];
    let start = o.cursor ? decodeCursor(o.cursor) : undefined;
    for (;;) {
      const page = await tk.io(table).query({
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: marshall({ ':pk': id(owner, options.owner), ':p': prefix }),
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      });
      const rows = page.Items ?? [];
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        const itemId = keep(row.sk!.S!);
        if (itemId === undefined) continue;
        items.push(withId<X>(row, itemId));
        if (items.length === limit) {
          // More may follow (or only rows the listing skips: the next page is then empty).
          const more = i < rows.length - 1 || page.LastEvaluatedKey !== undefined;
          return { items, ...(more ? { cursor: encodeCursor({ pk: row.pk!, sk: row.sk! }) } : {}) };
        }
      }
      if (!page.LastEvaluatedKey) return { items };
      start = page.LastEvaluatedKey;
    }
  };

  return {
    tables: () => [{ name: table, partitionKey: { name: 'pk', type: 'S' }, sortKey: { name: 'sk', type: 'S' } }],
    putThing: async (tk, owner, t, data) => put(tk, owner, thingSk(t), data),
    getThing: async (tk, owner, t) => get<T>(tk, owner, thingSk(t), t),
    async deleteThing(tk, owner, t) {
      // The thing and its subthings: `album#a1` and `album#a1#photo#…` (not `album#a10`).
      const sk = thingSk(t);
      const keys: Record<string, unknown>[] = [{ pk: owner, sk }];
      for (let cursor: string | undefined, first = true; first || cursor; first = false) {
        const page = await list<Data>(tk, owner, `${sk}#${subthing}#`, (s) => s, { limit: 1_000, cursor });
        for (const it of page.items) keys.push({ pk: owner, sk: it.id });
        cursor = page.cursor;
      }
      const b = batch(tk);
      const ops = keys.map((k) => b.delete(table, k));
      const result = await b.run();
      for (const op of ops) result.get(op);
    },
    listThings: async (tk, owner, o = {}) =>
      list<T>(
        tk,
        owner,
        `${thing}#`,
        (s) => {
          const rest = s.slice(thing.length + 1);
          return rest.includes('#') ? undefined : rest;
        },
        o,
      ),
    putSubthing: async (tk, owner, t, s, data) => put(tk, owner, subSk(t, s), data),
    getSubthing: async (tk, owner, t, s) => get<S>(tk, owner, subSk(t, s), s),
    async deleteSubthing(tk, owner, t, s) {
      await tk.io(table).delete({ Key: key(owner, subSk(t, s)) }, 1);
    },
    listSubthings: async (tk, owner, t, o = {}) => {
      const prefix = `${thingSk(t)}#${subthing}#`;
      return list<S>(tk, owner, prefix, (s) => s.slice(prefix.length), o);
    },
  };
}

function withId<X extends Data>(item: Record<string, AttributeValue>, itemId: string): Stored<X> {
  const { pk: _pk, sk: _sk, ...data } = unmarshall(item);
  return { ...(data as X), id: itemId };
}

const units = (item: Record<string, AttributeValue>): number => Math.max(1, Math.ceil(itemSize(item) / 1024));

const encodeCursor = (k: Record<string, AttributeValue>): string =>
  Buffer.from(JSON.stringify(unmarshall(k))).toString('base64url');

function decodeCursor(c: string): Record<string, AttributeValue> {
  try {
    return marshall(JSON.parse(Buffer.from(c, 'base64url').toString()) as Data);
  } catch (e) {
    throw new TributaryError('config.invalid', 'ownerThings: a cursor that no listing gave', { cause: e });
  }
}
