/**
 * How an app runs, where it is deployed: the runner's timings, capacity budgets and service
 * settings. Set them in the app definition (`app(name, pipelines, { runtime })`), override the
 * ones that change per environment with `tributary run` flags or `TRIBUTARY_*` variables, or pass
 * them to `new Runner(app, options)`. Precedence: the runner's options (which is what `tributary
 * run` flags set), then `TRIBUTARY_*` environment variables, then the app definition, then the
 * defaults. The README lists every setting.
 *
 * @example
 * ```ts
 * export default app('shop', pipelines, {
 *   runtime: { leaseDurationMs: 15_000, capacity: { page_clicks: { share: 0.8 } }, port: 9400 },
 * });
 * ```
 */
export interface RuntimeSettings {
  /** A lease whose counter has not moved for this long is taken over. Default 10,000 ms. Env `TRIBUTARY_LEASE_DURATION_MS`. */
  readonly leaseDurationMs?: number;
  /** How often leases are renewed. Default a third of the lease duration. Env `TRIBUTARY_RENEW_INTERVAL_MS`. */
  readonly renewIntervalMs?: number;
  /** How often the lease table is scanned for leases to take. Default 2,000 ms. Env `TRIBUTARY_LEASE_TAKE_INTERVAL_MS`. */
  readonly leaseTakeIntervalMs?: number;
  /** How often shards are listed to find new ones. Default 10,000 ms. Env `TRIBUTARY_DISCOVERY_INTERVAL_MS`. */
  readonly discoveryIntervalMs?: number;
  /** Batches of one shard in flight at once (bounds memory). Default 4. Env `TRIBUTARY_MAX_BATCHES_IN_FLIGHT`. */
  readonly maxBatchesInFlight?: number;
  /**
   * Least time between two checkpoint writes of a shard while records flow. After a crash, at
   * most about this much is applied again (at-least-once). Default 1,000 ms. Env `TRIBUTARY_CHECKPOINT_INTERVAL_MS`.
   */
  readonly checkpointIntervalMs?: number;
  /** Time a graceful stop may take before the runner gives up. Default 30,000 ms. Env `TRIBUTARY_SHUTDOWN_DEADLINE_MS`. */
  readonly shutdownDeadlineMs?: number;
  /**
   * Capacity budgets of sink tables, by logical table name; `'*'` applies to every other table.
   * Without an entry a provisioned table is governed by its own capacity and an on-demand one is not governed.
   */
  readonly capacity?: Readonly<Record<string, CapacityConfig>>;
  /** Port of the HTTP server of `tributary run` and `dev`; 0 turns it off. Default 9400. Env `TRIBUTARY_PORT`. */
  readonly port?: number;
  /** Address the HTTP server listens on. Default `0.0.0.0` (all interfaces, as containers need). Env `TRIBUTARY_HOST`. */
  readonly host?: string;
  /** `/readyz` fails once an AWS outage (or the lease table) has failed for longer than this. Default 60,000 ms. Env `TRIBUTARY_READY_OUTAGE_MS`. */
  readonly readyOutageMs?: number;
  /** How often `tributary run` logs a progress line per app; 0 turns it off. Default 30,000 ms. Env `TRIBUTARY_PROGRESS_LOG_MS`. */
  readonly progressLogIntervalMs?: number;
  /** How often the status (rates, lag history) is sampled. Default 2,000 ms. Env `TRIBUTARY_STATUS_SAMPLE_MS`. */
  readonly statusSampleMs?: number;
}

/**
 * The capacity a sink table may use. By default a table's provisioned capacity (base table and
 * every GSI, the smallest wins since each write lands on all of them); on-demand tables have no
 * budget unless one is set here.
 *
 * @example
 * ```ts
 * new Runner(app, { capacity: { page_clicks: { share: 0.8 }, mirror: { writeRate: 25 } } });
 * ```
 */
export interface CapacityConfig {
  /** Write units per second to allow: required for on-demand tables, a cap on provisioned ones. */
  readonly writeRate?: number;
  /** Read units per second to allow (view reads: BatchGetItem, replay queries). */
  readonly readRate?: number;
  /** Share of the provisioned capacity to use, in (0, 1]. Default 1. */
  readonly share?: number;
  /**
   * Seconds of unused capacity a burst may spend. DynamoDB keeps at most 300 s of unused capacity
   * for bursts; the governor never allows more than that. Default 1.
   */
  readonly burstSeconds?: number;
  /** How often the table's provisioned capacity is read again (UpdateTable is picked up). Default 30,000 ms. */
  readonly refreshMs?: number;
}
