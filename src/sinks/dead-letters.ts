import type { DynamoDBClient, WriteRequest } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Position } from '../core/position.js';
import { ensureTableExists } from './ensure-table.js';
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
  /** The record as JSON (or the raw payload), cut to fit in an item. */
  readonly record: string;
}

const MAX_RECORD_CHARS = 300_000;

/** The id of a dead letter: its position, so writing it again (after a crash) overwrites it. */
export const deadLetterId = (p: Position): string =>
  `${p.source}#${p.shardId}#${p.sequenceNumber}#${String(p.subSequenceNumber ?? 0).padStart(6, '0')}`;

/**
 * The dead-letter table: partition key `pipeline`, sort key `id` (the record's position). Writes
 * are durable before the batch holding the record is acknowledged.
 */
export class DeadLetterTable {
  private readonly io: DynamoTableIO;

  constructor(
    private readonly ddb: DynamoDBClient,
    readonly tableName: string,
    /** Once aborted, writes in flight are cancelled and nothing is retried (a runner stopping past its deadline). */
    signal?: AbortSignal,
  ) {
    this.io = new DynamoTableIO(ddb, tableName, {}, signal);
  }

  async ensure(): Promise<void> {
    await ensureTableExists(this.ddb, this.tableName, 'pipeline', 'id');
  }

  async write(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const byId = new Map<string, WriteRequest>();
    for (const l of letters) {
      const id = deadLetterId(l.position);
      const record =
        l.record.length > MAX_RECORD_CHARS
          ? `${l.record.slice(0, MAX_RECORD_CHARS)}…[truncated ${l.record.length - MAX_RECORD_CHARS} chars]`
          : l.record;
      const item = marshall({ ...l, id, record, at: new Date().toISOString() }, { removeUndefinedValues: true });
      byId.set(`${l.pipeline}|${id}`, { PutRequest: { Item: item } });
    }
    await this.io.batchWrite([...byId.values()]);
  }
}

/** JSON of a record for a dead letter; never throws (cycles, BigInt). */
export function recordJson(r: unknown): string {
  try {
    return JSON.stringify(r, (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
    );
  } catch (e) {
    return `unserializable record: ${(e as Error).message}`;
  }
}
