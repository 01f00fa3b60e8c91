import type { Checkpoint } from '../../core/position.js';

/** One row of the lease table: who reads a shard, how far they got, and a fencing counter. */
export interface Lease {
  /** `${source}#${shardId}` */
  readonly leaseKey: string;
  readonly source: string;
  readonly shardId: string;
  readonly owner: string | undefined;
  /** Bumped by every renewal, checkpoint, take and release; writes are conditioned on it. */
  readonly counter: number;
  readonly checkpoint: Checkpoint;
  readonly parentShardIds: readonly string[];
  readonly ownerSwitchesSinceCheckpoint: number;
  /** Set by the owner on each checkpoint; for status output. */
  readonly updatedAt?: string;
  /** A worker that asked for this lease: the owner drains, checkpoints and releases it. */
  readonly handoffTo?: string;
  /** Kinesis: how far behind the tip the shard was at the last checkpoint. */
  readonly millisBehind?: number;
}

/**
 * The `kind` of the other items a lease table holds: an exactly-once pipeline's progress on a
 * shard (`src/runtime/exactly-once/progress.ts`). Lease listings skip them.
 */
export const PROGRESS_KIND = 'progress';

export const leaseKeyOf = (source: string, shardId: string): string => `${source}#${shardId}`;

/** Checkpoints stored as KCL does: a sequence number or a sentinel string, plus a sub-sequence number. */
export function encodeCheckpoint(c: Checkpoint): { checkpoint: string; sub: number; resume?: string } {
  switch (c.kind) {
    case 'sequence':
      return { checkpoint: c.sequenceNumber, sub: c.subSequenceNumber, resume: c.resume };
    case 'AT_TIMESTAMP':
      return { checkpoint: `AT_TIMESTAMP:${c.timestamp}`, sub: 0 };
    default:
      return { checkpoint: c.kind, sub: 0 };
  }
}

export function decodeCheckpoint(checkpoint: string, sub: number, resume?: string): Checkpoint {
  if (checkpoint === 'TRIM_HORIZON' || checkpoint === 'LATEST' || checkpoint === 'SHARD_END')
    return { kind: checkpoint };
  if (checkpoint.startsWith('AT_TIMESTAMP:')) return { kind: 'AT_TIMESTAMP', timestamp: Number(checkpoint.slice(13)) };
  return { kind: 'sequence', sequenceNumber: checkpoint, subSequenceNumber: sub, ...(resume ? { resume } : {}) };
}

export function describeCheckpoint(c: Checkpoint): string {
  const e = encodeCheckpoint(c);
  return c.kind === 'sequence' && e.sub > 0 ? `${e.checkpoint}/${e.sub}` : e.checkpoint;
}
