import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { unmarshallImage } from '../core/numbers.js';
import { LRUCache } from 'lru-cache';
import { concatMap, from, toArray, type Observable } from 'rxjs';
import { describeError, TributaryError } from '../core/errors.js';
import type { KeyValue } from '../core/key-rules.js';
import { governedTable, type IamEnv, type Permission } from '../core/iam.js';
import type { OperatorEnv, RuntimeOperator } from '../core/operator.js';
import type { TableIO } from '../core/table-io.js';

/** The key of an item to read: its partition key and, if the table has one, its sort key. */
export type LookupKey = Readonly<Record<string, KeyValue>>;

/** What {@link lookup} reads for each record. */
export interface LookupGet<R> {
  /**
   * The table to read: a logical name, which the runner maps to its physical table (environment
   * prefix) and reads through its governed TableIO; or a TableIO, for use outside a runner.
   */
  readonly table: string | TableIO;
  /** The key of the item a record needs, or `undefined` when it needs none (its `item` is then `undefined`). */
  readonly key: (record: R) => LookupKey | undefined;
  /** Attributes to read besides the key; default all of them. */
  readonly attributes?: readonly string[];
  /** Strongly consistent reads (twice the read units). Default false. */
  readonly consistent?: boolean;
}

/** How {@link lookup} caches items (and the absence of items) in this process. */
export interface LookupCache {
  /** How long a read answer is served from the cache: the most a record's item can be out of date. */
  readonly ttlMs: number;
  /** Most keys cached; the least recently used go first. */
  readonly max: number;
  /** The clock the TTL is measured on, in ms (must stay above 0). Default `performance.now`. Tests inject one. */
  readonly now?: () => number;
}

export interface LookupOptions<R> {
  readonly get: LookupGet<R>;
  readonly cache: LookupCache;
}

/** A record with the item read for it; `item` is `undefined` when the table holds no item at the key. */
export interface Enriched<R, I> {
  readonly record: R;
  readonly item: I | undefined;
}

/**
 * Enriches each record with an item read from a DynamoDB table by a key computed from the record.
 * The reads of a batch go out together: its keys are deduplicated, those not in the cache are read
 * with BatchGetItem (100 keys a call, unprocessed keys retried), and answers are cached, absent
 * items included, for `cache.ttlMs`. In a runner the reads go through the table's governed
 * TableIO, so they count against its read capacity.
 *
 * The operator waits for the whole of its input before it emits: in a pipeline that is one batch.
 * A read that fails for good fails the batch, which the runner retries, bisects and dead-letters
 * like any other failure: a record never passes with a missing item because a read failed.
 *
 * The cache is per process and starts empty after a restart; `cache.ttlMs` bounds how stale an
 * item can be, as the cache never hears of writes to the table.
 *
 * @example
 * ```ts
 * pipeline('clicks-by-country').from(clicks)
 *   .pipe(
 *     lookup<KinesisRecord<Click>, User>({
 *       get: { table: 'users', key: (r) => ({ userId: r.value.userId }) },
 *       cache: { ttlMs: 60_000, max: 50_000 },
 *     }),
 *     map(({ record, item }) => ({ ...record.value, country: item?.country ?? 'unknown' })),
 *   )
 * ```
 */
export function lookup<R, I = Record<string, unknown>>(options: LookupOptions<R>): RuntimeOperator<R, Enriched<R, I>> {
  const { get, cache } = options;
  if (!(cache.ttlMs > 0))
    throw new TributaryError('config.invalid', `lookup: cache.ttlMs must be positive, got ${cache.ttlMs}`);
  if (!Number.isInteger(cache.max) || cache.max <= 0)
    throw new TributaryError('config.invalid', `lookup: cache.max must be a positive integer, got ${cache.max}`);
  let io: TableIO | undefined = typeof get.table === 'string' ? undefined : get.table;
  const cached = new LRUCache<string, { readonly item: I | undefined }>({
    max: cache.max,
    ttl: cache.ttlMs,
    // Check the clock at every read: by default lru-cache reuses one reading for a millisecond,
    // which an injected clock moved in between would not see.
    ttlResolution: 0,
    ...(cache.now ? { perf: { now: cache.now } } : {}),
  });

  const read = async (keys: Map<string, LookupKey>): Promise<Map<string, I | undefined>> => {
    if (!io)
      throw new TributaryError(
        'config.invalid',
        `lookup on table '${String(get.table)}' is not open: run it in a Runner, or give get.table a TableIO`,
      );
    const requested = [...keys.values()];
    const names = Object.keys(requested[0]!).sort();
    const out = new Map<string, I | undefined>([...keys.keys()].map((id) => [id, undefined]));
    try {
      const found = await io.batchGet(
        requested.map((k) => marshall(k) as Record<string, AttributeValue>),
        projection(get.attributes, names),
        get.consistent ?? false,
      );
      for (const raw of found) {
        const item = unmarshallImage(raw);
        const id = keyId(item as LookupKey, names);
        // An answer that matches no key asked for would leave its record without an item: fail instead.
        if (!keys.has(id))
          throw new TributaryError('operator.lookupFailed', `an item read back matches no key asked for: ${id}`);
        out.set(id, item as I);
      }
    } catch (e) {
      throw new TributaryError('operator.lookupFailed', `lookup on table '${io.table}': ${describeError(e).message}`, {
        cause: e,
      });
    }
    for (const [id, item] of out) cached.set(id, { item });
    return out;
  };

  const enrich = (records: R[]): Observable<Enriched<R, I>> => {
    const ids = records.map((r) => {
      const k = get.key(r);
      return k && { id: keyId(k, Object.keys(k).sort()), key: k };
    });
    // Answers of this batch are kept here, not read back from the cache, which may evict or expire them meanwhile.
    const answers = new Map<string, I | undefined>();
    const missing = new Map<string, LookupKey>();
    for (const k of ids) {
      if (!k || answers.has(k.id) || missing.has(k.id)) continue;
      const hit = cached.get(k.id);
      if (hit) answers.set(k.id, hit.item);
      else missing.set(k.id, k.key);
    }
    const emit = () => records.map((record, i) => ({ record, item: ids[i] && answers.get(ids[i].id) }));
    // All from the cache: emit synchronously, so a batch needs no promise at all.
    if (missing.size === 0) return from(emit());
    return from(read(missing)).pipe(
      concatMap((got) => {
        for (const [id, item] of got) answers.set(id, item);
        return emit();
      }),
    );
  };

  const operator = (source: Observable<R>) => source.pipe(toArray(), concatMap(enrich));
  return Object.assign(operator, {
    async open(env: OperatorEnv): Promise<void> {
      if (typeof get.table === 'string') io = env.io(env.tableName(get.table));
    },
    // BatchGetItem through the governed TableIO; a TableIO given directly is read outside any runner.
    iam: (env: IamEnv): readonly Permission[] =>
      typeof get.table === 'string' ? [governedTable(env.tableName(get.table), 'dynamodb:BatchGetItem')] : [],
  });
}

/**
 * One string per key, equal for a key the user computed and the same key read back from the
 * table. Numbers are compared by value: DynamoDB answers `1e21` as `1000000000000000000000`.
 */
function keyId(key: LookupKey, names: readonly string[]): string {
  return JSON.stringify(names.map((n) => [n, scalarId(key[n])]));
}

function scalarId(v: LookupKey[string] | undefined): string {
  if (typeof v === 'string') return `S${v}`;
  if (typeof v === 'bigint') return `N${v}`;
  if (typeof v === 'number') return `N${Number.isInteger(v) ? BigInt(v) : v}`;
  if (v instanceof Uint8Array) return `B${Buffer.from(v).toString('base64')}`;
  return '-';
}

/** The projection of `attributes` plus the key attributes, which match answers to keys. */
function projection(
  attributes: readonly string[] | undefined,
  keyNames: readonly string[],
): { expression: string; names: Record<string, string> } | undefined {
  if (!attributes) return undefined;
  const all = [...new Set([...keyNames, ...attributes])];
  return {
    expression: all.map((_, i) => `#a${i}`).join(', '),
    names: Object.fromEntries(all.map((a, i) => [`#a${i}`, a])),
  };
}
