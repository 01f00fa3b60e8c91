import type { Clients } from '../core/clients.js';
import { systemClock, type Clock } from '../core/clock.js';
import { TributaryError } from '../core/errors.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import type { RuntimeSettings } from '../core/runtime-settings.js';

/**
 * How a runner runs an app. The timings, capacity and service settings are the app's
 * {@link RuntimeSettings}: set here they win over `TRIBUTARY_*` environment variables, which win
 * over the app definition's `runtime`, which wins over the defaults.
 *
 * @example
 * ```ts
 * const runner = new Runner(app, { clients, leaseDurationMs: 6_000, capacity: { '*': { share: 0.5 } } });
 * ```
 */
export interface RunnerOptions extends RuntimeSettings {
  /** AWS clients; default `createClients()` (environment endpoints, default credential chain). */
  readonly clients?: Clients;
  /** This worker's identity in the lease table. Default host name + pid + random suffix. */
  readonly workerId?: string;
  /** Draw a backfill's progress as a bar on stdout (`tributary run` and `dev` do when stdout is a terminal). Default false. */
  readonly progressBar?: boolean;
  /** Maps a logical table name to a physical one (environment prefixes). Default identity. */
  readonly tableName?: (logical: string) => string;
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

/**
 * Every setting with its environment variable and default, in one place: `--help`, the README
 * and the resolution below read it. A default of `undefined` is derived (see its field's doc).
 */
export const SETTINGS = {
  leaseDurationMs: { env: 'TRIBUTARY_LEASE_DURATION_MS', default: 10_000 },
  renewIntervalMs: { env: 'TRIBUTARY_RENEW_INTERVAL_MS', default: undefined },
  leaseTakeIntervalMs: { env: 'TRIBUTARY_LEASE_TAKE_INTERVAL_MS', default: 2_000 },
  discoveryIntervalMs: { env: 'TRIBUTARY_DISCOVERY_INTERVAL_MS', default: 10_000 },
  maxBatchesInFlight: { env: 'TRIBUTARY_MAX_BATCHES_IN_FLIGHT', default: 4 },
  checkpointIntervalMs: { env: 'TRIBUTARY_CHECKPOINT_INTERVAL_MS', default: 1_000 },
  shutdownDeadlineMs: { env: 'TRIBUTARY_SHUTDOWN_DEADLINE_MS', default: 30_000 },
  port: { env: 'TRIBUTARY_PORT', default: 9_400 },
  readyOutageMs: { env: 'TRIBUTARY_READY_OUTAGE_MS', default: 60_000 },
  progressLogIntervalMs: { env: 'TRIBUTARY_PROGRESS_LOG_MS', default: 30_000 },
  statusSampleMs: { env: 'TRIBUTARY_STATUS_SAMPLE_MS', default: 2_000 },
} as const satisfies Record<string, { env: string; default: number | undefined }>;

type NumericSetting = keyof typeof SETTINGS;
/** Settings that may be 0 (meaning off). */
const ZERO_MEANS_OFF: ReadonlySet<NumericSetting> = new Set(['port', 'progressLogIntervalMs']);

/** Applies the defaults: code first, environment second, the app definition third. */
export function resolveRunnerOptions(options: RunnerOptions, app: RuntimeSettings = {}): ResolvedRunnerOptions {
  const pick = (k: NumericSetting): number | undefined =>
    options[k] ?? envInt(SETTINGS[k].env, ZERO_MEANS_OFF.has(k)) ?? app[k] ?? SETTINGS[k].default;
  const leaseDurationMs = pick('leaseDurationMs')!;
  return {
    leaseDurationMs,
    renewIntervalMs: pick('renewIntervalMs') ?? Math.floor(leaseDurationMs / 3),
    leaseTakeIntervalMs: pick('leaseTakeIntervalMs')!,
    discoveryIntervalMs: pick('discoveryIntervalMs')!,
    maxBatchesInFlight: pick('maxBatchesInFlight')!,
    checkpointIntervalMs: pick('checkpointIntervalMs')!,
    shutdownDeadlineMs: pick('shutdownDeadlineMs')!,
    port: pick('port')!,
    host: options.host ?? nonEmpty(process.env.TRIBUTARY_HOST) ?? app.host ?? '0.0.0.0',
    readyOutageMs: pick('readyOutageMs')!,
    progressLogIntervalMs: pick('progressLogIntervalMs')!,
    statusSampleMs: pick('statusSampleMs')!,
    tableName: options.tableName ?? ((n: string) => n),
    capacity: options.capacity ?? app.capacity ?? {},
    clock: options.clock ?? systemClock,
  };
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

function envInt(name: string, zeroAllowed = false): number | undefined {
  const v = nonEmpty(process.env[name]);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !zeroAllowed))
    throw new TributaryError(
      'config.invalid',
      `${name} must be a ${zeroAllowed ? 'number ≥ 0' : 'positive number'}, got '${v}'`,
    );
  return n;
}
