import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Clients } from '../core/clients.js';
import { isTributaryError, TributaryError } from '../core/errors.js';
import { openOperators } from '../core/operator.js';
import type { AppDef, PipelineDef } from '../core/pipeline.js';
import { jsonLogger, type Logger } from '../observe/log.js';
import { BackfillProgress } from '../observe/backfill-progress.js';
import { Metrics } from '../observe/metrics.js';
import { OutageReporter } from '../observe/outage-reporter.js';
import { DeadLetterTable } from '../sinks/dead-letters.js';
import { DynamoTableIO } from '../sinks/table-io.js';
import { GovernedTables } from './capacity/governed-tables.js';
import type { TableGovernor } from './capacity/governor.js';
import { watchClients } from './client-watch.js';
import { createClients, destroyClients } from './clients.js';
import { discoverShards } from './discovery.js';
import { checkGroupImages } from './image-checks.js';
import { LeaseRounds } from './lease-rounds.js';
import { LeaseKeeper } from './leases/keeper.js';
import type { Lease } from './leases/lease.js';
import { LeaseTable } from './leases/table.js';
import { resolveRunnerOptions, type ResolvedRunnerOptions, type RunnerOptions } from './options.js';
import { PipelineExecutor } from './pipeline-executor.js';
import { EffectCommitter } from './exactly-once/committer.js';
import { ProgressTable } from './exactly-once/progress.js';
import { ShardWorker, type ShardOutcome } from './shard-worker.js';
import { sourceEventReporter } from './source-events.js';
import { StatusBoard } from './status-board.js';
import { tapOf } from '../taps/tap.js';
import { TapStateTable } from '../taps/state-table.js';
import type { TapSink } from '../taps/tap-sink.js';
import type { TapFeed } from '../taps/feed.js';
import type { SourceRecord } from '../core/records.js';
import type { AggregateSpec } from '../operators/windows/aggregation.js';
import type { RunnerHealth, RunnerStatus, StatusSource } from '../observe/status/types.js';
import { groupBySource, type SourceGroup } from './source-groups.js';

/**
 * Runs an app: takes leases on shards, runs one reader per shard feeding every pipeline of its
 * source, checkpoints in the lease table, and stops gracefully.
 *
 * @example
 * ```ts
 * const runner = new Runner(app, { clients });
 * await runner.start();
 * process.on('SIGTERM', () => runner.stop());
 * await runner.done;
 * ```
 */
export class Runner implements StatusSource {
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly workerId: string;
  readonly clients: Clients;
  private readonly ownsClients: boolean;
  private readonly groups: Map<string, SourceGroup>;
  private readonly workers = new Map<string, { worker: ShardWorker; done: Promise<void> }>();
  private readonly leases: LeaseTable;
  private readonly deadLetters: DeadLetterTable;
  private readonly keeper: LeaseKeeper;
  private readonly rounds: LeaseRounds;
  private readonly opts: ResolvedRunnerOptions;
  private readonly tables: GovernedTables;
  private readonly committers: EffectCommitter[] = [];
  private readonly backfill: BackfillProgress;
  /**
   * Aborted when a stop passes its deadline: every call in flight is cancelled, retries and waits
   * end, so that nothing keeps the process alive or keeps writing after the runner gave up.
   */
  private readonly halting = new AbortController();
  private readonly outages: OutageReporter;
  private readonly board: StatusBoard;
  private unwatch: (() => void) | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private loopWake: (() => void) | undefined;
  private fatal: unknown;
  private resolveDone!: (v: { error?: unknown }) => void;
  /** Resolves when the runner has stopped, with the error that stopped it, if any. */
  readonly done: Promise<{ error?: unknown }>;

  constructor(
    readonly app: AppDef,
    options: RunnerOptions = {},
  ) {
    this.ownsClients = !options.clients;
    this.clients = options.clients ?? createClients();
    this.metrics = options.metrics ?? new Metrics();
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.log = (options.log ?? jsonLogger()).child({ app: app.name, worker: this.workerId });
    this.opts = resolveRunnerOptions(options, app.runtime);
    const halt = this.halting.signal;
    this.leases = new LeaseTable(this.clients.dynamodb, this.opts.tableName(app.leaseTable), halt);
    this.deadLetters = new DeadLetterTable(
      this.clients.dynamodb,
      this.opts.tableName(app.deadLetters.tableName),
      (l, e) =>
        this.log.error('dead letter refused; writing a minimal entry instead', {
          pipeline: l.pipeline,
          position: l.position,
          code: l.code,
          error: e,
        }),
      halt,
    );
    this.tables = new GovernedTables({
      clients: this.clients,
      capacity: this.opts.capacity,
      tableName: this.opts.tableName,
      metrics: this.metrics,
      log: this.log,
      clock: this.opts.clock,
      signal: halt,
    });
    this.backfill = new BackfillProgress(this.log, this.metrics, { bar: options.progressBar ?? false });
    this.outages = new OutageReporter({ log: this.log, metrics: this.metrics, clock: this.opts.clock });
    this.keeper = new LeaseKeeper(
      this.leases,
      this.workerId,
      (k) => this.workers.get(k)?.worker.leaseLost(),
      this.log,
      this.opts.clock,
      (k, to) => {
        this.log.info('handing a lease over', { leaseKey: k, to });
        this.workers.get(k)?.worker.stop();
      },
      this.opts.leaseDurationMs,
    );
    this.rounds = new LeaseRounds({
      leases: this.leases,
      keeper: this.keeper,
      workerId: this.workerId,
      leaseDurationMs: this.opts.leaseDurationMs,
      clock: this.opts.clock,
      metrics: this.metrics,
      log: this.log,
    });
    this.board = new StatusBoard({
      app,
      workerId: this.workerId,
      metrics: this.metrics,
      log: this.log,
      opts: this.opts,
      clock: this.opts.clock,
      leases: this.leases,
      keeper: this.keeper,
      outages: this.outages,
      deadLetters: this.deadLetters,
    });
    this.done = new Promise((r) => (this.resolveDone = r));
    // Every call in flight listens on the halt signal (a commit alone sends 16 writes at once):
    // many listeners are the design here, not a leak, so Node's warning past 10 would only mislead.
    setMaxListeners(0, this.halting.signal);
    this.groups = groupBySource(app.pipelines);
  }

  /** The options in force: code, then environment, then the app definition's `runtime`, then defaults. */
  get options(): ResolvedRunnerOptions {
    return this.opts;
  }

  /**
   * Whether this worker is alive (its event loop turns, its lease renewals run) and ready
   * (started, the lease table answers, no outage longer than `readyOutageMs`): `/livez` and `/readyz`.
   *
   * @example
   * ```ts
   * const { live, ready, checks } = runner.health();
   * if (!ready) console.log(checks.outages.detail);
   * ```
   */
  health(): RunnerHealth {
    return this.board.health();
  }

  /**
   * The app as this worker sees it: workers and their shards, checkpoints and lag (with recent
   * history), rates per pipeline, capacity per table and the latest dead letters. What
   * `/status.json` and the status page serve.
   *
   * @example
   * ```ts
   * const s = await runner.status();
   * for (const p of s.pipelines) console.log(p.name, p.perSecond.applied, 'records/s');
   * ```
   */
  status(): Promise<RunnerStatus> {
    return this.board.status();
  }

  /**
   * A tap of the app by name: `events()` (an Observable of snapshot, update, final, progress and
   * lag events, with resume tokens), `values()` and `late()`. Undefined when the app has none of that name.
   *
   * @example
   * ```ts
   * runner.tap('clicks-per-page')!.values().subscribe((e) => { if (e.type === 'final') console.log(e.key, e.value); });
   * ```
   */
  tap(name: string): TapSink<SourceRecord, AggregateSpec<SourceRecord>> | undefined {
    return this.app.pipelines.map(tapOf).find((t) => t?.tapName === name);
  }

  tapFeed(name: string): TapFeed | undefined {
    return this.tap(name)?.feed as TapFeed | undefined;
  }

  tapNames(): readonly string[] {
    return this.app.pipelines.flatMap((p) => tapOf(p)?.tapName ?? []);
  }

  /** The Prometheus text of this runner's registry (`/metrics`). */
  async metricsText(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() };
  }

  /** Prepares tables, sources and sinks, then starts taking leases. Resolves once running. */
  async start(): Promise<void> {
    if (this.stopping)
      throw new TributaryError('config.invalid', 'a stopped runner cannot be started again; create a new one');
    this.board.starting();
    // Clients shared with others are only watched: halting them would fail their other users' calls.
    this.unwatch ??= watchClients(this.clients, {
      outages: this.outages,
      halt: this.ownsClients ? this.halting.signal : undefined,
    });
    await Promise.all([this.leases.ensure(), this.deadLetters.ensure()]);
    const io = (table: string): DynamoTableIO => this.tables.io(table);
    const env = {
      clients: this.clients,
      tableName: this.opts.tableName,
      io,
      onEvent: sourceEventReporter(this.metrics, this.log, this.backfill),
      signal: this.halting.signal,
      stateTable: this.leases.tableName,
    };
    const sinkEnv = {
      clients: this.clients,
      tableName: this.opts.tableName,
      io,
      maxBatchesInFlight: this.opts.maxBatchesInFlight,
    };
    // Sources first: a missing source table is the first thing to fix, and it says so before any view's table does.
    for (const g of this.groups.values()) {
      g.bound = await g.source.bind(env);
      checkGroupImages(g);
    }
    const sinks = new Set(this.app.pipelines.flatMap((p) => p.sinks));
    await Promise.all([...sinks].map((s) => s.open?.(sinkEnv)));
    await openOperators(this.app.pipelines, sinkEnv);
    await this.shareTaps();
    const progress = new ProgressTable(this.clients.dynamodb, this.leases.tableName, this.halting.signal);
    for (const g of this.groups.values()) {
      g.executors = g.pipelines.map(
        (p) =>
          new PipelineExecutor(p, {
            app: this.app.name,
            deadLetters: this.deadLetters,
            metrics: this.metrics,
            log: this.log,
            exactlyOnce: p.options.guarantee === 'exactly-once' ? this.exactlyOnce(p, io, progress) : undefined,
          }),
      );
    }
    // stop() may have been called while this was setting up: then there is nothing to start.
    if (this.stopping) return;
    this.keeper.startRenewing(this.opts.renewIntervalMs);
    this.board.running();
    this.log.info('runner started', {
      pipelines: this.app.pipelines.map((p) => p.name),
      sources: [...this.groups.keys()],
    });
    this.loop = this.coordinate();
  }

  /**
   * Stops gracefully: no more fetching, in-flight batches drained, sinks flushed, checkpoints
   * written, leases released, within the shutdown deadline.
   */
  async stop(): Promise<{ error?: unknown }> {
    if (!this.stopping) {
      this.stopping = true;
      this.board.stopping();
      this.loopWake?.();
      const graceful = this.shutdown();
      const timer = new AbortController();
      const deadline = this.opts.clock
        .sleep(this.opts.shutdownDeadlineMs, timer.signal)
        .then(() => (timer.signal.aborted ? ('ok' as const) : ('deadline' as const)));
      const r = await Promise.race([graceful.then(() => 'ok' as const), deadline]);
      timer.abort();
      if (r === 'deadline') {
        this.fatal ??= new TributaryError(
          'runtime.shutdownDeadline',
          `graceful stop took longer than ${this.opts.shutdownDeadlineMs} ms; leases will expire instead`,
        );
        this.log.error('shutdown deadline passed; abandoning the work still running', {
          deadlineMs: this.opts.shutdownDeadlineMs,
        });
        this.halt();
      }
      // Owned clients keep their watch: once halted it fails whatever still unwinds, and they close here anyway.
      if (this.ownsClients) destroyClients(this.clients);
      else this.unwatch?.();
      this.board.stopped();
      this.resolveDone({ error: this.fatal });
    }
    return this.done;
  }

  /** The committer of an exactly-once pipeline, whose every sink must plan effects. */
  private exactlyOnce(
    p: PipelineDef,
    io: (table: string) => DynamoTableIO,
    progress: ProgressTable,
  ): { committer: EffectCommitter; progress: ProgressTable; owner: string } {
    const unfit = p.sinks.filter((s) => typeof s.stage !== 'function');
    if (unfit.length)
      throw new TributaryError(
        'sink.notExactlyOnce',
        `pipeline '${p.name}' is exactly-once, but sink${unfit.length > 1 ? 's' : ''} ${unfit.map((s) => `'${s.name}'`).join(', ')} cannot commit with it: only DynamoDB views and table writers can (or use guarantee 'at-least-once')`,
        { details: { pipeline: p.name, sinks: unfit.map((s) => s.name) } },
      );
    const committer = new EffectCommitter({
      pipeline: p.name,
      io,
      progress,
      whenValid: (k) => this.keeper.whenValid(k, this.halting.signal),
      validity: (k) => this.keeper.validity(k),
      maxBatchesInFlight: this.opts.maxBatchesInFlight,
    });
    this.committers.push(committer);
    return { committer, progress, owner: this.workerId };
  }

  /** Taps merge every worker's part through the app's tap state table (`<app>_taps`). */
  private async shareTaps(): Promise<void> {
    const taps = this.app.pipelines.flatMap((p) => tapOf(p) ?? []);
    if (taps.length === 0) return;
    const states = new TapStateTable(
      this.clients.dynamodb,
      this.opts.tableName(`${this.app.name}_taps`),
      this.halting.signal,
    );
    await states.ensure();
    for (const t of taps)
      t.share({
        states,
        app: this.app.name,
        worker: this.workerId,
        staleMs: 3 * this.opts.leaseDurationMs,
        log: this.log,
      });
  }

  /** Cancels what a graceful stop left running: calls in flight, retries, waits and timers. */
  private halt(): void {
    this.halting.abort(this.fatal);
    this.keeper.stopRenewing();
    this.tables.stop();
    for (const w of this.workers.values()) w.worker.stop();
  }

  /** The capacity governor of a physical table (one per table per runner). */
  governor(physicalTable: string): TableGovernor {
    return this.tables.governor(physicalTable);
  }

  private async shutdown(): Promise<void> {
    await this.loop;
    for (const w of this.workers.values()) w.worker.stop();
    await Promise.all([...this.workers.values()].map((w) => w.done));
    for (const c of this.committers) c.close();
    this.backfill.stop();
    const sinks = new Set(this.app.pipelines.flatMap((p) => p.sinks));
    await Promise.all(
      [...sinks].map(async (s) => {
        await s.flush?.();
        await s.close?.();
      }),
    );
    this.keeper.stopRenewing();
    this.tables.stop();
    this.log.info('runner stopped');
  }

  /** Lease rounds at the take interval, each after a discovery when the discovery interval has passed. */
  private async coordinate(): Promise<void> {
    while (!this.stopping) {
      try {
        await discoverShards(this.groups.values(), this.leases, this.opts.clock.now(), this.opts.discoveryIntervalMs);
        for (const g of this.groups.values())
          for (const p of g.pipelines) tapOf(p)?.knowShards(g.shards.map((s) => s.shardId));
        await this.rounds.run(
          this.groups,
          () => this.workers.keys(),
          (l) => this.startWorker(l),
          () => this.stopping,
        );
        this.board.roundOk();
      } catch (e) {
        this.log.warn('lease coordination failed; retrying', { error: e });
      }
      // Not unref'd: a worker holding no lease yet must stay alive to take one. Woken early by loopWake.
      const wake = new AbortController();
      this.loopWake = () => wake.abort();
      await this.opts.clock.sleep(this.opts.leaseTakeIntervalMs, wake.signal);
    }
  }

  private startWorker(lease: Lease): void {
    const g = this.groups.get(lease.source)!;
    const shard = g.shards.find((s) => s.shardId === lease.shardId) ?? {
      shardId: lease.shardId,
      parentShardIds: lease.parentShardIds,
    };
    const worker = new ShardWorker(
      lease.leaseKey,
      shard,
      lease.checkpoint,
      lease.counter,
      g.bound!,
      g.executors!,
      {
        keeper: this.keeper,
        deadLetters: this.deadLetters,
        metrics: this.metrics,
        log: this.log,
        app: this.app.name,
        clock: this.opts.clock,
      },
      { maxBatchesInFlight: this.opts.maxBatchesInFlight, checkpointIntervalMs: this.opts.checkpointIntervalMs },
    );
    this.log.info('shard started', { source: lease.source, shard: lease.shardId, from: lease.checkpoint });
    const done = worker.run().then((r) => this.onWorkerDone(lease, r.outcome, r.error));
    this.workers.set(lease.leaseKey, { worker, done });
  }

  private async onWorkerDone(lease: Lease, outcome: ShardOutcome, error: unknown): Promise<void> {
    this.workers.delete(lease.leaseKey);
    this.metrics.remove('tributary_behind_seconds', { source: lease.source, shard: lease.shardId });
    const fields = { source: lease.source, shard: lease.shardId, outcome };
    if (outcome === 'lost' || (outcome === 'stopped' && !this.stopping))
      for (const p of this.groups.get(lease.source)?.pipelines ?? []) tapOf(p)?.releaseShard(lease.shardId);
    if (outcome === 'lost') {
      this.rounds.gaveUp();
      this.keeper.drop(lease.leaseKey);
      this.metrics.inc('tributary_leases_lost_total', { source: lease.source });
      this.log.warn('shard lease lost', fields);
      return;
    }
    if (outcome === 'failed') {
      this.log.error('shard failed', { ...fields, error });
      // The pipeline asked to stop the app rather than go on (fail-fast, or over its dead-letter budget).
      if (isTributaryError(error, 'runtime.failFast') || isTributaryError(error, 'runtime.deadLetterBudget')) {
        this.fatal ??= error;
        await this.keeper.release(lease.leaseKey).catch(() => undefined);
        void this.stop();
        return;
      }
    } else this.log.info('shard finished', fields);
    await this.keeper
      .release(lease.leaseKey)
      .catch((e: unknown) => this.log.warn('lease release failed', { ...fields, error: e }));
    // Stopped while running on: handed over to another worker, which must get the time to take it.
    if (outcome === 'stopped' && !this.stopping) this.rounds.gaveUp();
    // A finished parent makes its children ready: look again now rather than at the next tick.
    if (outcome === 'ended') {
      for (const p of this.groups.get(lease.source)?.pipelines ?? []) tapOf(p)?.endShard(lease.shardId);
      this.loopWake?.();
    }
    if (outcome === 'failed' && !this.stopping) await this.opts.clock.sleep(1_000, this.halting.signal);
  }
}
