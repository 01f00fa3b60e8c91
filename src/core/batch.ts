import type { Checkpoint, Position } from './position.js';
import type { SourceRecord } from './records.js';

/** A record that could not be turned into a typed record (bad bytes, schema violation). */
export interface Rejected {
  readonly position: Position;
  readonly code: string;
  readonly reason: string;
  /** The raw payload, as text when it decodes as UTF-8, otherwise base64. */
  readonly raw: string;
}

/** What one fetch from one shard produced. */
export interface Batch<R extends SourceRecord = SourceRecord> {
  readonly source: string;
  readonly shardId: string;
  /** Monotonic per shard within one process: the order of acknowledgement. */
  readonly seq: number;
  readonly records: readonly R[];
  readonly rejected: readonly Rejected[];
  /** Where the shard's checkpoint moves once this batch is acknowledged. */
  readonly checkpoint: Checkpoint | undefined;
  /** How far behind the tip the shard was when this batch was read, when the service says. */
  readonly millisBehind?: number;
}
