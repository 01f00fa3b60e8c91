import type { Clients } from '../core/clients.js';
import { systemClock, type Clock } from '../core/clock.js';
import { TributaryError } from '../core/errors.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import type { CapacityConfig } from './capacity/config.js';

/**
 * How a runner runs an app. Every field has a default suited to production; the timing fields
 * can also be set through `TRIBUTARY_LEASE_DURATION_MS`, `TRIBUTARY_LEASE_TAKE_INTERVAL_MS`,
 * `TRIBUTARY_DISCOVERY_INTERVAL_MS`, `TRIBUTARY_MAX_BATCHES_IN_FLIGHT`,
 * `TRIBUTARY_CHECKPOINT_INTERVAL_MS` and `TRIBUTARY_SHUTDOWN_DEADLINE_MS` (code wins over the environment).
 */
export interface RunnerOptions {
  /** AWS clients; default `createClients()` (environment endpoints, default credential chain). */
  readonly clients?: Clients;
  /** This worker's identity in the lease table. Default host name + pid + random suffix. */
  readonly workerId?: string;
  /** A lease whose counter has not moved for this long is taken over. Default 10,000 ms (KCL's failover time). */
  readonly leaseDurationMs?: number;
  /** How often leases are renewed. Default a third of the lease duration. */
  readonly renewIntervalMs?: number;
  /** How often the lease table is scanned for leases to take. Default 2,000 ms. */
  readonly leaseTakeIntervalMs?: number;
  /** How often shards are listed to find new ones. Default 10,000 ms. */
  readonly discoveryIntervalMs?: number;
  /** Batches of one shard in flight at once (bounds memory). Default 4. */
  readonly maxBatchesInFlight?: number;
  /**
   * Least time between two checkpoint writes of a shard while records flow (the end of a shard and
   * a stop checkpoint at once). After a crash, at most about this much is applied again. Default 1,000 ms.
   */
  readonly checkpointIntervalMs?: number;
  /** Draw a backfill's progress as a bar on stdout (`tributary run` and `dev` do when stdout is a terminal). Default false. */
  readonly progressBar?: boolean;
  /** Time a graceful stop may take before the runner gives up. Default 30,000 ms. */
  readonly shutdownDeadlineMs?: number;
  /** Maps a logical table name to a physical one (environment prefixes). Default identity. */
  readonly tableName?: (logical: string) => string;
  /**
   * Capacity budgets of sink tables, by logical table name; `'*'` applies to every other table.
   * Without an entry a provisioned table is governed by its own capacity and an on-demand one is not governed.
   */
  readonly capacity?: Readonly<Record<string, CapacityConfig>>;
  /**
   * Time for every decision the runtime times: lease rounds, renewals and expiry, discovery,
   * checkpoint intervals, capacity refills and waits, the shutdown deadline. Default the system
   * clock; tests pass a `ManualClock` from `tributary/testing` and move time themselves.
   */
  readonly clock?: Clock;
  /** The runner's metrics. Default `new Metrics()`, in a prom-client registry of its own; `new Metrics({ registry })` uses yours. */
  readonly metrics?: Metrics;
  /** Where the runner logs. Default `jsonLogger()`: pino JSON lines on stderr, credentials redacted. */
  readonly log?: Logger;
}

/** Runner options with every default applied (clients, identity, metrics and logs are the runner's own). */
export type ResolvedRunnerOptions = Required<
  Omit<RunnerOptions, 'clients' | 'metrics' | 'log' | 'workerId' | 'progressBar'>
>;

/** Applies the defaults: code first, environment second. */
export function resolveRunnerOptions(options: RunnerOptions): ResolvedRunnerOptions {
  const leaseDurationMs = options.leaseDurationMs ?? envInt('TRIBUTARY_LEASE_DURATION_MS') ?? 10_000;
  return {
    leaseDurationMs,
    renewIntervalMs: options.renewIntervalMs ?? Math.floor(leaseDurationMs / 3),
    leaseTakeIntervalMs: options.leaseTakeIntervalMs ?? envInt('TRIBUTARY_LEASE_TAKE_INTERVAL_MS') ?? 2_000,
    discoveryIntervalMs: options.discoveryIntervalMs ?? envInt('TRIBUTARY_DISCOVERY_INTERVAL_MS') ?? 10_000,
    maxBatchesInFlight: options.maxBatchesInFlight ?? envInt('TRIBUTARY_MAX_BATCHES_IN_FLIGHT') ?? 4,
    checkpointIntervalMs: options.checkpointIntervalMs ?? envInt('TRIBUTARY_CHECKPOINT_INTERVAL_MS') ?? 1_000,
    shutdownDeadlineMs: options.shutdownDeadlineMs ?? envInt('TRIBUTARY_SHUTDOWN_DEADLINE_MS') ?? 30_000,
    tableName: options.tableName ?? ((n: string) => n),
    capacity: options.capacity ?? {},
    clock: options.clock ?? systemClock,
  };
}

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new TributaryError('config.invalid', `${name} must be a positive number, got '${v}'`);
  return n;
}
