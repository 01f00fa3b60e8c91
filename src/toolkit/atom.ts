import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { TributaryError } from '../core/errors.js';
import { backoff, type BackoffOptions } from '../core/retry.js';
import { itemSize } from '../sinks/item-size.js';
import type { Toolkit } from './context.js';

/** How an atom's value is stored in its item's `value` attribute. */
export interface AtomCodec<T> {
  encode(value: T): AttributeValue;
  decode(stored: AttributeValue): T;
}

/**
 * Values as DynamoDB's own types (maps, lists, numbers, strings, booleans, null; `Uint8Array` as
 * binary): readable in the console and by any other reader of the table. The default.
 */
export const nativeCodec = <T>(): AtomCodec<T> => ({
  encode: (v) => marshall({ v }, { removeUndefinedValues: true }).v!,
  decode: (a) => unmarshall({ v: a }).v as T,
});

/** Values as JSON text in a string attribute: for values DynamoDB's types do not hold (an empty set, a sparse array). */
export const jsonTextCodec = <T>(): AtomCodec<T> => ({
  encode: (v) => ({ S: JSON.stringify(v) }),
  decode: (a) => JSON.parse(a.S ?? 'null') as T,
});

/** Options of {@link Atom.swap}. */
export interface SwapOptions {
  /** Attempts after the first when another writer changed the atom in between. Default 100. */
  readonly retries?: number;
  /** Waits between attempts (full jitter). Default 5 ms, doubling up to 500 ms. */
  readonly backoff?: BackoffOptions;
}

/** Options of {@link atom}. */
export interface AtomOptions<T> {
  /** Default {@link nativeCodec}. */
  readonly codec?: AtomCodec<T>;
}

/** A value in one DynamoDB item that many processes change safely; see {@link atom}. */
export interface Atom<T> {
  /** The value now (a consistent read), or undefined before the first write. */
  deref(): Promise<T | undefined>;
  /** Sets the value whatever it was. */
  reset(value: T): Promise<void>;
  /**
   * Sets the value to `fn(current)`, as a compare-and-set: the write is conditioned on the version
   * read, and read, computed and tried again when another writer came first. `fn` may run more
   * than once, so it must be pure. Resolves with the value written.
   */
  swap(fn: (current: T | undefined) => T, options?: SwapOptions): Promise<T>;
  /** Swaps done and the attempts they retried after losing a race. */
  readonly stats: { swaps: number; retries: number };
}

/**
 * A durable atom, as Clojure's, in one item of a table: `deref`, `reset` and `swap`. Each swap is
 * a read and a write conditioned on the item's `version` attribute, which every write increments;
 * a lost race is read again and retried with backoff, any other error is thrown (throttling is
 * retried by the governed I/O first). The item holds the key, `value` (by the codec), `version`
 * and `updatedAt`.
 *
 * Suited to state that changes about 10 times a second (a configuration, a high-water mark, a
 * small counter shared by a few processes): every change is a read and a conditional write of one
 * item, on one partition, so N writers at once cost up to N attempts each, and one item takes at
 * most 1,000 writes a second. For 1,000 increments a second, use a counter view (ADDs coalesced per
 * flush) or sharded counters instead.
 *
 * @example
 * ```ts
 * const tk = toolkit(clients);
 * const highWater = atom<{ seq: number }>(tk, 'atoms', { id: 'orders-high-water' });
 * await highWater.swap((cur) => ({ seq: Math.max(cur?.seq ?? 0, seen) }));
 * console.log(await highWater.deref(), highWater.stats.retries);
 * ```
 */
export function atom<T>(
  tk: Toolkit,
  table: string,
  key: Readonly<Record<string, string | number>>,
  options: AtomOptions<T> = {},
): Atom<T> {
  const codec = options.codec ?? nativeCodec<T>();
  const io = tk.io(table);
  const wireKey = marshall(key);
  const stats = { swaps: 0, retries: 0 };

  const read = async (): Promise<{ value: T | undefined; version: number | undefined }> => {
    const [item] = await io.batchGet([wireKey], undefined, true);
    if (!item) return { value: undefined, version: undefined };
    return {
      value: item.value ? codec.decode(item.value) : undefined,
      version: item.version?.N !== undefined ? Number(item.version.N) : undefined,
    };
  };

  /** Writes `value` if the version is still `expected` (undefined: no version yet), or whatever it is (`null`). */
  const write = async (value: T, expected: number | undefined | null): Promise<boolean> => {
    const encoded = codec.encode(value);
    const condition =
      expected === null
        ? {}
        : expected === undefined
          ? { ConditionExpression: 'attribute_not_exists(#ver)' }
          : { ConditionExpression: '#ver = :expected' };
    const units = Math.max(1, Math.ceil((itemSize({ ...wireKey, value: encoded }) + 40) / 1024));
    return io.update(
      {
        Key: wireKey,
        UpdateExpression: 'SET #val = :val, #at = :at ADD #ver :one',
        ExpressionAttributeNames: { '#val': 'value', '#ver': 'version', '#at': 'updatedAt' },
        ExpressionAttributeValues: {
          ':val': encoded,
          ':at': { S: new Date().toISOString() },
          ':one': { N: '1' },
          ...(typeof expected === 'number' ? { ':expected': { N: String(expected) } } : {}),
        },
        ...condition,
      },
      units,
    );
  };

  return {
    stats,
    async deref() {
      return (await read()).value;
    },
    async reset(value) {
      await write(value, null);
    },
    async swap(fn, opts = {}) {
      const retries = opts.retries ?? 100;
      for (let attempt = 0; ; attempt++) {
        const { value, version } = await read();
        const next = fn(value);
        if (await write(next, version)) {
          stats.swaps++;
          return next;
        }
        if (attempt >= retries)
          throw new TributaryError(
            'toolkit.atomContended',
            `atom ${JSON.stringify(key)} of table '${table}' was changed by another writer on each of ${attempt + 1} attempts`,
            { details: { table, attempts: attempt + 1 } },
          );
        stats.retries++;
        await sleep(backoff(attempt, opts.backoff?.baseMs ?? 5, opts.backoff?.capMs ?? 500));
      }
    },
  };
}
