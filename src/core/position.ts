/** Where a record sits in its stream: enough to checkpoint after it or to find it again. */
export interface Position {
  /** The source's name as declared in the app (a table or stream name). */
  readonly source: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** Kinesis only: index of a user record inside a KPL-aggregated record. */
  readonly subSequenceNumber?: number;
}

/** A shard's checkpoint: after this position, or a sentinel. */
export type Checkpoint =
  | {
      readonly kind: 'sequence';
      readonly sequenceNumber: string;
      readonly subSequenceNumber: number;
      /**
       * Where a source that is not a stream goes on from (a table scan's `LastEvaluatedKey`, as
       * JSON): kept with the checkpoint in the lease table.
       */
      readonly resume?: string;
    }
  | { readonly kind: 'TRIM_HORIZON' }
  | { readonly kind: 'LATEST' }
  | { readonly kind: 'AT_TIMESTAMP'; readonly timestamp: number }
  | { readonly kind: 'SHARD_END' };

/** Compares two stream sequence numbers (decimal strings of up to 128 bits). */
export function compareSequence(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders two positions of the same shard, sub-sequence included. */
export function comparePosition(
  a: { sequenceNumber: string; subSequenceNumber?: number },
  b: { sequenceNumber: string; subSequenceNumber?: number },
): number {
  const c = compareSequence(a.sequenceNumber, b.sequenceNumber);
  if (c !== 0) return c;
  return (a.subSequenceNumber ?? 0) - (b.subSequenceNumber ?? 0);
}
