import { createHash } from 'node:crypto';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describeError } from '../core/errors.js';
import type { Position } from '../core/position.js';
import { ensureTableExists } from './ensure-table.js';
import { itemSize, MAX_ITEM_BYTES } from './item-size.js';
import { DynamoTableIO } from './table-io.js';

/** One record that could not be applied, with why and where it came from. */
export interface DeadLetter {
  readonly app: string;
  /** The pipeline, or `source:<name>` for records rejected before any pipeline (decoding). */
  readonly pipeline: string;
  readonly stage: 'decode' | 'pipeline' | 'sink';
  readonly code: string;
  readonly message: string;
  readonly position: Position;
  /** The record as JSON (or the raw payload); cut to fit in an item when written (see {@link DeadLetterTable}). */
  readonly record: string;
}

/** Bytes kept free below DynamoDB's item limit, so an entry never sits on the boundary. */
const ITEM_MARGIN_BYTES = 1024;
/** Longest message kept in an entry: a thrown error's message is unbounded, and the record comes first. */
const MAX_MESSAGE_BYTES = 8 * 1024;

/** The id of a dead letter: its position, so writing it again (after a crash) overwrites it. */
export const deadLetterId = (p: Position): string =>
  `${p.source}#${p.shardId}#${p.sequenceNumber}#${String(p.subSequenceNumber ?? 0).padStart(6, '0')}`;

type Item = Record<string, AttributeValue>;

/**
 * The dead-letter table: partition key `pipeline`, sort key `id` (the record's position). Writes
 * are durable before the batch holding the record is acknowledged, and never block a shard.
 *
 * An entry's attributes (what `tributary dead-letters` reads):
 * - `pipeline`, `id`, `app`, `stage`, `code`, `message`, `position`, `at` (ISO time of the write);
 * - `record`: the record as written by the pipeline, or its first bytes when the entry would pass
 *   DynamoDB's 400 KB item limit, measured in UTF-8 bytes as DynamoDB counts them. A cut record
 *   carries `truncated: true`, `recordBytes` (the full record's UTF-8 length) and `recordSha256`
 *   (hex SHA-256 of the full record's UTF-8 bytes), so it can be matched against the source;
 * - `minimal: true` marks an entry DynamoDB refused whole for another reason (not a transient
 *   one): it keeps only `pipeline`, `id`, `app`, `position`, `code`, `message` and `at`, plus
 *   `entryError`, why the full entry was refused. It has no record, so it cannot be redriven.
 *
 * @example
 * ```ts
 * const letters = new DeadLetterTable(clients.dynamodb, 'shop_dead_letters');
 * await letters.ensure();
 * await letters.write([{ app: 'shop', pipeline: 'clicks', stage: 'pipeline', code: 'Error', message: 'bad', position, record: '{}' }]);
 * ```
 */
export class DeadLetterTable {
  private readonly io: DynamoTableIO;
  private readonly watchers: ((letters: readonly DeadLetter[]) => void)[] = [];

  constructor(
    private readonly ddb: DynamoDBClient,
    readonly tableName: string,
    /** Hears of each entry DynamoDB refused whole, before its minimal entry is written (the runner logs it). */
    private readonly onRefused?: (letter: DeadLetter, error: unknown) => void,
    /** Once aborted, writes in flight are cancelled and nothing is retried (a runner stopping past its deadline). */
    signal?: AbortSignal,
  ) {
    this.io = new DynamoTableIO(ddb, tableName, {}, signal);
  }

  async ensure(): Promise<void> {
    await ensureTableExists(this.ddb, this.tableName, 'pipeline', 'id');
  }

  /** Hears of every entry once it is durable (the status page's latest dead letters). */
  watch(fn: (letters: readonly DeadLetter[]) => void): void {
    this.watchers.push(fn);
  }

  /**
   * Writes the entries; resolves when durable. Transient failures are retried (the table's I/O);
   * when DynamoDB refuses the batch for another reason, each entry is written alone, and one it
   * still refuses is written as a minimal entry. Rejects only when even that is refused (the
   * table is missing, access is denied): then nothing can be recorded, and the shard must not move on.
   */
  async write(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const byId = new Map<string, DeadLetter>();
    for (const l of letters) byId.set(`${l.pipeline}|${deadLetterId(l.position)}`, l);
    const at = new Date().toISOString();
    const entries = [...byId.values()];
    try {
      await this.io.batchWrite(entries.map((l) => ({ PutRequest: { Item: entryItem(l, at) } })));
    } catch {
      // BatchWriteItem refuses the whole call for one bad entry: find which, one at a time.
      await Promise.all(entries.map((l) => this.writeOne(l, at)));
    }
    for (const w of this.watchers) w(entries);
  }

  private async writeOne(l: DeadLetter, at: string): Promise<void> {
    try {
      await this.io.put({ Item: entryItem(l, at) });
    } catch (e) {
      this.onRefused?.(l, e);
      await this.io.put({ Item: minimalItem(l, at, describeError(e).message) });
    }
  }
}

/** The full entry, its record cut to fit the item limit in UTF-8 bytes. */
export function entryItem(l: DeadLetter, at: string): Item {
  const base = { ...l, id: deadLetterId(l.position), at, message: cutUtf8(l.message, MAX_MESSAGE_BYTES) };
  const whole = marshall(base, { removeUndefinedValues: true });
  const size = itemSize(whole);
  if (size <= MAX_ITEM_BYTES - ITEM_MARGIN_BYTES) return whole;
  const full = Buffer.from(l.record, 'utf8');
  const marks = marshall({
    truncated: true,
    recordBytes: full.byteLength,
    recordSha256: createHash('sha256').update(full).digest('hex'),
  });
  const room = MAX_ITEM_BYTES - ITEM_MARGIN_BYTES - (size - full.byteLength) - itemSize(marks);
  return { ...whole, ...marks, record: { S: cutUtf8(l.record, Math.max(0, room)) } };
}

function minimalItem(l: DeadLetter, at: string, entryError: string): Item {
  const { app, pipeline, position, code } = l;
  return marshall(
    {
      app,
      pipeline,
      id: deadLetterId(position),
      position,
      code: cutUtf8(code, 1024),
      message: cutUtf8(l.message, MAX_MESSAGE_BYTES),
      at,
      minimal: true,
      entryError: cutUtf8(entryError, MAX_MESSAGE_BYTES),
    },
    { removeUndefinedValues: true },
  );
}

/** The longest prefix of `s` of at most `bytes` UTF-8 bytes, never splitting a character. */
function cutUtf8(s: string, bytes: number): string {
  if (s.length * 3 <= bytes) return s;
  const { read } = new TextEncoder().encodeInto(s, new Uint8Array(bytes));
  return s.slice(0, read);
}
