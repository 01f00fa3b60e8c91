import type { TapFeed } from '../../taps/feed.js';

/** One shard as the status shows it: who holds it, how far it got, and how far behind it is. */
export interface ShardStatus {
  readonly source: string;
  readonly shardId: string;
  /** The worker holding its lease (undefined: free, or finished). */
  readonly owner?: string;
  /** The checkpoint, as `tributary status` prints it (a sequence number, TRIM_HORIZON, SHARD_END...). */
  readonly checkpoint: string;
  /** Milliseconds behind the tip of the shard: this worker's last read, or the owner's last checkpoint. */
  readonly lagMs?: number;
  /** This worker's recent lag readings of the shard, oldest first (epoch ms, lag ms). */
  readonly lagHistory: readonly (readonly [number, number])[];
  /** Whether this worker reads it. */
  readonly local: boolean;
  /** ISO time of the owner's last checkpoint. */
  readonly updatedAt?: string;
}

/** A worker of the app and the shards (lease keys) it holds. */
export interface WorkerStatus {
  readonly id: string;
  readonly shards: readonly string[];
  /** This process. */
  readonly self: boolean;
}

/** Records of a pipeline: totals since start, and per second over the status window. */
export interface FlowCounts {
  readonly in: number;
  readonly applied: number;
  readonly deadLettered: number;
}

export interface PipelineStatus {
  readonly name: string;
  readonly totals: FlowCounts;
  readonly perSecond: FlowCounts;
}

/** A governed table's capacity of one kind (read or write), in capacity units. */
export interface TableStatus {
  readonly table: string;
  readonly kind: string;
  /** Units per second the table may use (undefined: not governed). */
  readonly budget?: number;
  /** The current send rate under the budget, after throttling. */
  readonly rate?: number;
  readonly consumedPerSecond: number;
  readonly throttledPerSecond: number;
  readonly consumedTotal: number;
  readonly throttledTotal: number;
}

/** One of the latest dead letters this worker wrote. */
export interface DeadLetterStatus {
  /** ISO time it was written. */
  readonly at: string;
  readonly pipeline: string;
  readonly stage: string;
  readonly code: string;
  readonly message: string;
  /** `source/shard/sequence`. */
  readonly position: string;
}

/**
 * What `runner.status()`, `/status.json` and the status page show. Workers and other workers'
 * shards come from the lease table (read at most once per sample interval, when asked); rates
 * and lag histories from this worker's metrics, sampled at `sampleMs`.
 */
export interface RunnerStatus {
  readonly app: string;
  readonly worker: string;
  readonly state: 'created' | 'starting' | 'running' | 'stopping' | 'stopped';
  /** ISO times: when the runner started, and of this snapshot. */
  readonly startedAt?: string;
  readonly at: string;
  readonly sampleMs: number;
  /** Seconds over which the per-second rates are measured. */
  readonly windowSeconds: number;
  readonly workers: readonly WorkerStatus[];
  readonly shards: readonly ShardStatus[];
  readonly pipelines: readonly PipelineStatus[];
  readonly tables: readonly TableStatus[];
  readonly deadLetters: readonly DeadLetterStatus[];
  /** ISO time of the lease-table listing the workers and shards come from, and why the last one failed. */
  readonly leasesAt?: string;
  readonly leasesError?: string;
}

/** One check of a health answer. */
export interface HealthCheck {
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * `runner.health()`, served as `/livez` (`live`) and `/readyz` (`ready`). Liveness asks only
 * whether the process can make progress (its event loop turns and its lease renewals run), never
 * whether AWS answers: a container restarted for throttling would only lose its leases.
 */
export interface RunnerHealth {
  readonly live: boolean;
  readonly ready: boolean;
  readonly checks: {
    readonly eventLoop: HealthCheck;
    readonly renewals: HealthCheck;
    readonly started: HealthCheck;
    readonly leaseTable: HealthCheck;
    readonly outages: HealthCheck;
  };
}

/** What the HTTP server serves: a runner, or anything that answers like one. */
export interface StatusSource {
  health(): RunnerHealth;
  status(): Promise<RunnerStatus>;
  /** Prometheus text of the registry, and its content type. */
  metricsText(): Promise<{ readonly contentType: string; readonly body: string }>;
  /** The app's taps, by name (served at `/taps/:name` and `/taps/:name/view`). */
  tapFeed?(name: string): TapFeed | undefined;
  tapNames?(): readonly string[];
}
