import type { StreamViewType } from './images.js';
import type { Batch } from './batch.js';
import type { Checkpoint } from './position.js';
import type { SourceRecord } from './records.js';

/** A shard as the service lists it. */
export interface ShardInfo {
  readonly shardId: string;
  /** Parents whose records come before this shard's for every key (split: one; merge: two). */
  readonly parentShardIds: readonly string[];
  /** Set when the shard is closed: no record will be added after it. */
  readonly endingSequenceNumber?: string;
}

/** Reads one shard, in order, one batch per call: the runner pulls, the reader never pushes. */
export interface ShardReader<R extends SourceRecord = SourceRecord> {
  /**
   * Fetches the next batch. Resolves with `checkpoint: SHARD_END` and `ended: true` once a closed
   * shard has been read to its end. Waits (backs off) while the shard is idle.
   */
  next(signal: AbortSignal): Promise<Batch<R> & { readonly ended: boolean }>;
}

/** Where a source begins reading when no checkpoint exists yet. */
export type StartPosition = 'TRIM_HORIZON' | 'LATEST' | { readonly atTimestamp: Date };

/** Environment a source is bound to at run time (clients, endpoints, logging). */
export interface SourceEnv {
  readonly clients: import('./clients.js').Clients;
  /** Physical name of a logical table (environment prefix). */
  readonly tableName: (logical: string) => string;
  /** The governed I/O layer of a physical table, for sources that read tables (replay). */
  readonly io?: (physicalTable: string) => import('./table-io.js').TableIO;
  readonly onEvent?: (e: SourceEvent) => void;
  /** The physical name of the app's lease table, where sources that keep state of their own (a backfill's pages) keep it. */
  readonly stateTable?: string;
  /**
   * Once aborted, the source's calls in flight are cancelled and its retries end: a runner aborts
   * it when a stop passes its deadline. Reads also stop on the signal each `next` is given.
   */
  readonly signal?: AbortSignal;
}

/** Things a source reports that are neither records nor failures of the app, named by source and shard. */
export type SourceEvent = { readonly source: string; readonly shardId: string } & (
  | { readonly type: 'trimmedData'; readonly checkpoint: Checkpoint }
  | { readonly type: 'iteratorExpired' }
  | { readonly type: 'throttled' }
  | { readonly type: 'fetched'; readonly count: number; readonly millisBehind?: number }
  | {
      /** A backfill's progress over every worker: items scanned of about `total`, segments done of `segments`. */
      readonly type: 'backfill';
      readonly scanned: number;
      readonly total?: number;
      readonly segmentsDone: number;
      readonly segments: number;
    }
  /** Changes of a backfilled table's stream that the backfill's Scan had already included. */
  | { readonly type: 'reconciled'; readonly count: number }
);

/**
 * A stream source: lists shards and opens readers. Implemented by DynamoDB Streams, Kinesis and
 * in-memory sources; the runner drives them all the same way.
 */
export interface StreamSource<R extends SourceRecord = SourceRecord> {
  /** Stable name: leases and checkpoints are keyed by it. */
  readonly name: string;
  readonly kind: string;
  readonly startPosition: StartPosition;
  /** Logical name of the DynamoDB table whose stream this source reads, when given by name (`tributary tables plan` checks it exists). */
  readonly table?: string;
  /** Resolves names to ARNs, checks the stream exists. */
  bind(env: SourceEnv): Promise<BoundSource<R>>;
  /** The AWS permissions reading the source needs (`tributary iam`); a source without it is reported as undeclared. */
  iam?(env: import('./iam.js').IamEnv): readonly import('./iam.js').Permission[];
}

export interface BoundSource<R extends SourceRecord = SourceRecord> {
  readonly name: string;
  /** For a DynamoDB stream: the physical table and what its changes carry, checked against the pipelines' needs at start. */
  readonly stream?: { readonly table: string; readonly viewType: StreamViewType };
  listShards(): Promise<readonly ShardInfo[]>;
  openShard(shard: ShardInfo, from: Checkpoint): Promise<ShardReader<R>>;
  /** Records between a checkpoint and the tip, where the service can tell; undefined otherwise. */
  describeLag?(shard: ShardInfo, from: Checkpoint): Promise<number | undefined>;
}
