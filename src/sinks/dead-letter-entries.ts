import {
  paginateQuery,
  paginateScan,
  UpdateItemCommand,
  type DynamoDBClient,
  type QueryCommandInput,
  type ScanCommandInput,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { TributaryError } from '../core/errors.js';
import { rethrowMissing } from '../core/not-found.js';
import { comparePosition } from '../core/position.js';
import { withRetry } from '../core/retry.js';
import type { DeadLetter } from './dead-letters.js';

/**
 * A dead letter as stored: the entry {@link DeadLetter} describes, with its id and time, and the
 * redrive mark. Fields of `DeadLetter` are optional here: a minimal entry (written when the full
 * one could not be) holds only its position, pipeline, code and reason.
 */
export type StoredDeadLetter = Partial<DeadLetter> &
  Pick<DeadLetter, 'pipeline' | 'position'> & {
    /** The entry's sort key: its position (see `deadLetterId`). */
    readonly id: string;
    /** ISO time the entry was (last) written. */
    readonly at?: string;
    /** ISO time a redrive applied the record; the entry is kept as history. */
    readonly redrivenAt?: string;
    /** True on an entry whose record was cut to fit in an item. */
    readonly truncated?: boolean;
    /** A cut record's full length in UTF-8 bytes. */
    readonly recordBytes?: number;
    /** Hex SHA-256 of a cut record's full UTF-8 bytes. */
    readonly recordSha256?: string;
    /** True on a minimal entry: DynamoDB refused the full one; there is no record. */
    readonly minimal?: boolean;
    /** Why a minimal entry's full entry was refused. */
    readonly entryError?: string;
  };

/** Which entries to read. */
export interface DeadLetterQuery {
  /** Only this pipeline's entries (`source:<name>` for records rejected by decoding). */
  readonly pipeline?: string;
  /** Only entries written at or after this time. */
  readonly since?: Date;
}

/**
 * Reads the entries of a dead-letter table (a Query for one pipeline, else a Scan), ordered by
 * pipeline, then by position within each shard. A missing table is `config.invalid`: the app
 * has never run against this endpoint (or under this prefix).
 *
 * @example
 * ```ts
 * const entries = await readDeadLetters(ddb, 'shop_dead_letters', { pipeline: 'orders', since: new Date(Date.now() - 3_600_000) });
 * ```
 */
export async function readDeadLetters(
  ddb: DynamoDBClient,
  table: string,
  q: DeadLetterQuery = {},
): Promise<StoredDeadLetter[]> {
  const since = q.since?.toISOString();
  const filter = since
    ? { FilterExpression: '#at >= :since', ExpressionAttributeValues: { ':since': { S: since } } }
    : {};
  const names = since ? { ExpressionAttributeNames: { '#at': 'at' } } : {};
  const read = async (): Promise<StoredDeadLetter[]> => {
    const items: StoredDeadLetter[] = [];
    const pages = q.pipeline
      ? paginateQuery({ client: ddb }, {
          TableName: table,
          KeyConditionExpression: '#p = :p',
          ...filter,
          ExpressionAttributeNames: { '#p': 'pipeline', ...names.ExpressionAttributeNames },
          ExpressionAttributeValues: { ':p': { S: q.pipeline }, ...filter.ExpressionAttributeValues },
        } satisfies QueryCommandInput)
      : paginateScan({ client: ddb }, { TableName: table, ...filter, ...names } satisfies ScanCommandInput);
    for await (const page of pages) for (const i of page.Items ?? []) items.push(unmarshall(i) as StoredDeadLetter);
    return items;
  };
  const entries = await rethrowMissing(
    () => withRetry(read, { maxAttempts: 3 }),
    (cause) =>
      new TributaryError(
        'config.invalid',
        `dead-letter table '${table}' does not exist: the app has not run against this endpoint yet`,
        { details: { table }, cause },
      ),
  );
  return entries.sort(
    (a, b) =>
      a.pipeline.localeCompare(b.pipeline) ||
      a.position.source.localeCompare(b.position.source) ||
      a.position.shardId.localeCompare(b.position.shardId) ||
      comparePosition(a.position, b.position),
  );
}

/**
 * Marks an entry as redriven: its record was applied. The entry stays (with `redrivenAt`), so the
 * table keeps the history of what failed and when it was fixed. Conditioned on the entry being
 * the one read (same `at`): an entry the redrive itself rewrote, or a newer failure at the same
 * position, is not marked.
 *
 * @example
 * ```ts
 * await markRedriven(ddb, 'shop_dead_letters', entry, new Date());
 * ```
 */
export async function markRedriven(
  ddb: DynamoDBClient,
  table: string,
  entry: Pick<StoredDeadLetter, 'pipeline' | 'id' | 'at'>,
  when: Date,
): Promise<boolean> {
  try {
    await withRetry(() =>
      ddb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pipeline: { S: entry.pipeline }, id: { S: entry.id } },
          UpdateExpression: 'SET redrivenAt = :when',
          ConditionExpression: entry.at === undefined ? 'attribute_not_exists(#at)' : '#at = :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: {
            ':when': { S: when.toISOString() },
            ...(entry.at === undefined ? {} : { ':at': { S: entry.at } }),
          },
        }),
      ),
    );
    return true;
  } catch (e) {
    if ((e as Error).name === 'ConditionalCheckFailedException') return false;
    throw e;
  }
}
