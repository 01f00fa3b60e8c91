import type { Clock } from '../core/clock.js';
import type { AppDef } from '../core/pipeline.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import type { OutageReporter } from '../observe/outage-reporter.js';
import { ProgressLog } from '../observe/progress-log.js';
import { EventLoopWatch } from '../observe/status/event-loop.js';
import { RecentDeadLetters } from '../observe/status/recent-dead-letters.js';
import { StatusSampler } from '../observe/status/sampler.js';
import type { RunnerHealth, RunnerStatus, ShardStatus, WorkerStatus } from '../observe/status/types.js';
import type { DeadLetterTable } from '../sinks/dead-letters.js';
import type { LeaseKeeper } from './leases/keeper.js';
import { describeCheckpoint, type Lease } from './leases/lease.js';
import type { LeaseTable } from './leases/table.js';
import type { ResolvedRunnerOptions } from './options.js';

/** An event loop later than this fails `/livez`: no GC or burst of work on a healthy worker comes near it. */
const EVENT_LOOP_LIMIT_MS = 10_000;
/**
 * Least time between two listings of the lease table for the status: a listing scans the table,
 * which also holds exactly-once progress and a backfill's stored pages.
 */
const LISTING_MS = 5_000;
/** A status answers within this even when the lease table does not (an outage): with the last listing. */
const LISTING_WAIT_MS = 3_000;

type State = RunnerStatus['state'];

/**
 * What a runner knows about itself, for `runner.health()`, `runner.status()`, the HTTP server and
 * the progress log lines: the samples of its metrics, its latest dead letters, its event loop,
 * and a listing of the lease table (read at most once per sample interval, only when asked).
 */
export class StatusBoard {
  state: State = 'created';
  private startedAt: string | undefined;
  /** When a lease round last went through (the runner's clock). */
  private roundOkAt: number | undefined;
  private readonly sampler: StatusSampler;
  private readonly recent = new RecentDeadLetters();
  private readonly loop = new EventLoopWatch();
  private readonly progress: ProgressLog;
  private listing: { at: number; wall: string; leases: readonly Lease[] } | undefined;
  private listingError: string | undefined;
  private listingCall: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      readonly app: AppDef;
      readonly workerId: string;
      readonly metrics: Metrics;
      readonly log: Logger;
      readonly opts: ResolvedRunnerOptions;
      readonly clock: Clock;
      readonly leases: LeaseTable;
      readonly keeper: LeaseKeeper;
      readonly outages: OutageReporter;
      readonly deadLetters: DeadLetterTable;
    },
  ) {
    this.sampler = new StatusSampler(deps.metrics, deps.clock, deps.opts.statusSampleMs);
    this.progress = new ProgressLog(deps.metrics, deps.log, deps.clock, deps.opts.progressLogIntervalMs);
    deps.deadLetters.watch((letters) => this.recent.add(letters));
  }

  starting(): void {
    this.state = 'starting';
    this.loop.start();
  }

  running(): void {
    this.state = 'running';
    this.startedAt = new Date().toISOString();
    this.roundOkAt = this.deps.clock.now();
    this.sampler.start();
    this.progress.start();
  }

  stopping(): void {
    if (this.state !== 'stopped') this.state = 'stopping';
  }

  stopped(): void {
    this.state = 'stopped';
    this.sampler.stop();
    this.progress.stop();
    this.loop.stop();
  }

  /** A lease round (discovery, listing, takes) went through. */
  roundOk(): void {
    this.roundOkAt = this.deps.clock.now();
  }

  health(): RunnerHealth {
    const { clock, keeper, outages, opts } = this.deps;
    const now = clock.now();
    const eventLoop = this.loop.check(EVENT_LOOP_LIMIT_MS);
    // Renewals run on a timer whatever AWS answers: a late round means a stuck process, not throttling.
    const renewLimit = 3 * opts.renewIntervalMs + 1_000;
    const renewedAgo = keeper.lastRenewalRoundAt === undefined ? undefined : now - keeper.lastRenewalRoundAt;
    const renewals =
      renewedAgo === undefined
        ? { ok: this.state !== 'running', detail: 'not renewing' }
        : { ok: renewedAgo < renewLimit, detail: `last round ${Math.round(renewedAgo)} ms ago` };
    const started = { ok: this.state === 'running', detail: this.state };
    const roundAgo = this.roundOkAt === undefined ? undefined : now - this.roundOkAt;
    const leaseTable =
      roundAgo === undefined
        ? { ok: false, detail: 'no lease round yet' }
        : {
            ok: roundAgo < opts.readyOutageMs,
            detail: `last lease round through ${Math.round(roundAgo)} ms ago (limit ${opts.readyOutageMs} ms)`,
          };
    const oldest = outages.oldest();
    const outage =
      oldest === undefined
        ? { ok: true, detail: 'none' }
        : {
            ok: now - oldest.since < opts.readyOutageMs,
            detail: `${oldest.target} failing for ${Math.round(now - oldest.since)} ms (${oldest.error})`,
          };
    return {
      live: eventLoop.ok && renewals.ok,
      ready: started.ok && leaseTable.ok && outage.ok,
      checks: { eventLoop, renewals, started, leaseTable, outages: outage },
    };
  }

  async status(): Promise<RunnerStatus> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.refreshListing(),
      new Promise<void>((r) => (timer = setTimeout(r, LISTING_WAIT_MS).unref())),
    ]);
    clearTimeout(timer);
    const { app, workerId, opts } = this.deps;
    const local = this.sampler.localShards();
    const leases = this.listing?.leases ?? [];
    const shards: ShardStatus[] = leases
      .map((l): ShardStatus => {
        const history = this.sampler.lagHistory(l.source, l.shardId);
        const mine = local.has(`${l.source}|${l.shardId}`) && l.owner === workerId;
        const lagMs = mine ? history.at(-1)?.[1] : l.millisBehind;
        return {
          source: l.source,
          shardId: l.shardId,
          ...(l.owner ? { owner: l.owner } : {}),
          checkpoint: describeCheckpoint(l.checkpoint),
          ...(lagMs === undefined ? {} : { lagMs }),
          lagHistory: mine ? history : [],
          local: mine,
          ...(l.updatedAt ? { updatedAt: l.updatedAt } : {}),
        };
      })
      .sort((a, b) => a.source.localeCompare(b.source) || a.shardId.localeCompare(b.shardId));
    const byWorker = new Map<string, string[]>([[workerId, []]]);
    for (const l of leases)
      if (l.owner && l.checkpoint.kind !== 'SHARD_END')
        (byWorker.get(l.owner) ?? byWorker.set(l.owner, []).get(l.owner)!).push(l.leaseKey);
    const workers: WorkerStatus[] = [...byWorker.entries()]
      .map(([id, held]) => ({ id, shards: held.sort(), self: id === workerId }))
      .sort((a, b) => Number(b.self) - Number(a.self) || a.id.localeCompare(b.id));
    return {
      app: app.name,
      worker: workerId,
      state: this.state,
      ...(this.startedAt ? { startedAt: this.startedAt } : {}),
      at: new Date().toISOString(),
      sampleMs: opts.statusSampleMs,
      windowSeconds: this.sampler.windowSeconds,
      workers,
      shards,
      pipelines: this.sampler.pipelines(app.pipelines.map((p) => p.name)),
      tables: this.sampler.tables(),
      deadLetters: this.recent.list(),
      ...(this.listing ? { leasesAt: this.listing.wall } : {}),
      ...(this.listingError ? { leasesError: this.listingError } : {}),
    };
  }

  /** Lists the lease table unless a recent listing exists; one call at a time. */
  private async refreshListing(): Promise<void> {
    const { clock, opts, leases } = this.deps;
    if (this.listing && clock.now() - this.listing.at < Math.max(opts.statusSampleMs, LISTING_MS)) return;
    this.listingCall ??= (async () => {
      try {
        const list = await leases.list();
        this.listing = { at: clock.now(), wall: new Date().toISOString(), leases: list };
        this.listingError = undefined;
      } catch (e) {
        this.listingError = (e as Error).message;
      } finally {
        this.listingCall = undefined;
      }
    })();
    await this.listingCall;
  }
}
