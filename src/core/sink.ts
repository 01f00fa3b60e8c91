import type { Effect } from './effects.js';
import type { ImageNeeds } from './images.js';
import type { Position } from './position.js';

/** What a sink is told about the records behind the outputs it is given. */
export interface WriteContext {
  readonly app: string;
  readonly pipeline: string;
  /** Positions of the source records the outputs derive from, in order. */
  readonly positions: readonly Position[];
}

/**
 * A destination for a pipeline's outputs. `write` resolves only when every write derived from
 * the outputs is durable: the runner acknowledges the batch (and may checkpoint past it) then.
 * A sink may buffer and coalesce across calls, but must preserve the order of calls per key.
 * It rejects with a non-retryable `TributaryError` when an output can never be written (the
 * runner then isolates the record that produced it); transient failures are retried inside.
 */
export interface Sink<O> {
  readonly name: string;
  /**
   * True when the sink's effects do not depend on the order of its calls: increments (counters),
   * or writes that keep the newest version whatever order they land in (version-conditioned
   * mirrors, puts keyed by an event id). The runner then hands a shard's next batch to the sink
   * before the previous one is durable, so it can coalesce across batches. Otherwise (the default)
   * a shard's batch N is durable, or retried and dead-lettered, before batch N+1 reaches the sink,
   * so a retry of N never overwrites N+1's write of the same key.
   */
  readonly commutative?: boolean;
  /**
   * The images of DynamoDB changes the sink reads itself (an index view: old and new). The runner
   * checks them at start against a DynamoDB source's stream view type (`source.streamViewType`).
   */
  readonly needs?: ImageNeeds;
  /** Prepares clients and checks the target exists; called once before the first write. */
  open?(env: SinkEnv): Promise<void>;
  write(outputs: readonly O[], ctx: WriteContext): Promise<void>;
  /**
   * Plans the writes of outputs as {@link Effect}s without sending them, for pipelines with
   * `guarantee: 'exactly-once'`: the runner commits them together with the pipeline's progress.
   * Throws (or rejects with) a `TributaryError` for an output that can never apply, as `write`
   * would reject, so the runner isolates its record. Sinks without it cannot be in such a pipeline.
   */
  stage?(outputs: readonly O[], ctx: WriteContext): readonly Effect[] | Promise<readonly Effect[]>;
  /**
   * The AWS permissions the sink needs in a pipeline of `env.guarantee` (`tributary iam`). A sink
   * without it is reported as undeclared: the policy cannot know what it calls.
   */
  iam?(env: import('./iam.js').IamEnv): readonly import('./iam.js').Permission[];
  /** Writes whatever is buffered; resolves when durable. */
  flush?(): Promise<void>;
  close?(): Promise<void>;
}

export interface SinkEnv {
  readonly clients: import('./clients.js').Clients;
  /** Physical name of a logical table (environment prefix). */
  readonly tableName: (logical: string) => string;
  /** The I/O layer for a physical table: retries and capacity accounting live there. One per table per runner. */
  readonly io: (physicalTable: string) => import('./table-io.js').TableIO;
  /**
   * Batches of one shard the runner keeps unacknowledged at most (its `maxBatchesInFlight`): a
   * sink that buffers across batches stops a shard once it holds this many of them.
   */
  readonly maxBatchesInFlight: number;
}
