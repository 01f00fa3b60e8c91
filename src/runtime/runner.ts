import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Clients } from '../core/clients.js';
import { TributaryError } from '../core/errors.js';
import { openOperators } from '../core/operator.js';
import type { AppDef, PipelineDef } from '../core/pipeline.js';
import type { Checkpoint } from '../core/position.js';
import type { BoundSource, ShardInfo, StartPosition, StreamSource } from '../core/source.js';
import { sleep } from '../core/time.js';
import { jsonLogger, type Logger } from '../observe/log.js';
import { Metrics } from '../observe/metrics.js';
import { DeadLetterTable } from '../sinks/dead-letters.js';
import { DynamoTableIO } from '../sinks/table-io.js';
import { TableGovernor } from './capacity/governor.js';
import { closedShards } from '../sources/lineage.js';
import { createClients, destroyClients } from './clients.js';
import { LeaseKeeper } from './leases/keeper.js';
import type { Lease } from './leases/lease.js';
import { LeaseTable } from './leases/table.js';
import type { RunnerOptions } from './options.js';
import { PipelineExecutor } from './pipeline-executor.js';
import { ShardWorker, type ShardOutcome } from './shard-worker.js';
import { sourceEventReporter } from './source-events.js';
import { planTakes } from './take-plan.js';

interface SourceGroup {
  readonly source: StreamSource;
  readonly pipelines: PipelineDef[];
  bound?: BoundSource;
  executors?: PipelineExecutor[];
  shards: readonly ShardInfo[];
  lastDiscovery: number;
}

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
export class Runner {
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly workerId: string;
  readonly clients: Clients;
  private readonly ownsClients: boolean;
  private readonly groups = new Map<string, SourceGroup>();
  private readonly workers = new Map<string, { worker: ShardWorker; done: Promise<void> }>();
  private readonly observed = new Map<string, { counter: number; since: number }>();
  private readonly leases: LeaseTable;
  private readonly deadLetters: DeadLetterTable;
  private readonly keeper: LeaseKeeper;
  private readonly opts: Required<Omit<RunnerOptions, 'clients' | 'metrics' | 'log' | 'workerId'>>;
  private readonly governors = new Map<string, TableGovernor>();
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
    // Code first, environment second.
    const leaseDurationMs = options.leaseDurationMs ?? envInt('TRIBUTARY_LEASE_DURATION_MS') ?? 10_000;
    this.opts = {
      leaseDurationMs,
      renewIntervalMs: options.renewIntervalMs ?? Math.floor(leaseDurationMs / 3),
      leaseTakeIntervalMs: options.leaseTakeIntervalMs ?? envInt('TRIBUTARY_LEASE_TAKE_INTERVAL_MS') ?? 2_000,
      discoveryIntervalMs: options.discoveryIntervalMs ?? envInt('TRIBUTARY_DISCOVERY_INTERVAL_MS') ?? 10_000,
      maxBatchesInFlight: options.maxBatchesInFlight ?? envInt('TRIBUTARY_MAX_BATCHES_IN_FLIGHT') ?? 4,
      checkpointIntervalMs: options.checkpointIntervalMs ?? envInt('TRIBUTARY_CHECKPOINT_INTERVAL_MS') ?? 1_000,
      shutdownDeadlineMs: options.shutdownDeadlineMs ?? envInt('TRIBUTARY_SHUTDOWN_DEADLINE_MS') ?? 30_000,
      tableName: options.tableName ?? ((n: string) => n),
      capacity: options.capacity ?? {},
    };
    this.leases = new LeaseTable(this.clients.dynamodb, this.opts.tableName(app.leaseTable));
    this.deadLetters = new DeadLetterTable(this.clients.dynamodb, this.opts.tableName(app.deadLetters.tableName));
    this.keeper = new LeaseKeeper(
      this.leases,
      this.workerId,
      (k) => this.workers.get(k)?.worker.leaseLost(),
      this.log,
      (k, to) => {
        this.log.info('handing a lease over', { leaseKey: k, to });
        this.workers.get(k)?.worker.stop();
      },
    );
    this.done = new Promise((r) => (this.resolveDone = r));
    for (const p of app.pipelines) {
      const g = this.groups.get(p.source.name);
      if (g && g.source !== p.source && g.source.kind !== p.source.kind)
        throw new TributaryError('config.invalid', `two different sources are named '${p.source.name}'`);
      if (g) g.pipelines.push(p);
      else this.groups.set(p.source.name, { source: p.source, pipelines: [p], shards: [], lastDiscovery: 0 });
    }
  }

  /** Prepares tables, sources and sinks, then starts taking leases. Resolves once running. */
  async start(): Promise<void> {
    if (this.stopping)
      throw new TributaryError('config.invalid', 'a stopped runner cannot be started again; create a new one');
    await Promise.all([this.leases.ensure(), this.deadLetters.ensure()]);
    const ios = new Map<string, DynamoTableIO>();
    const io = (table: string) =>
      ios.get(table) ??
      ios
        .set(table, new DynamoTableIO(this.clients.dynamodbData ?? this.clients.dynamodb, table, this.governor(table)))
        .get(table)!;
    const env = {
      clients: this.clients,
      tableName: this.opts.tableName,
      io,
      onEvent: sourceEventReporter(this.metrics, this.log),
    };
    const sinkEnv = {
      clients: this.clients,
      tableName: this.opts.tableName,
      io,
      maxBatchesInFlight: this.opts.maxBatchesInFlight,
    };
    const sinks = new Set(this.app.pipelines.flatMap((p) => p.sinks));
    await Promise.all([...sinks].map((s) => s.open?.(sinkEnv)));
    await openOperators(this.app.pipelines, sinkEnv);
    for (const g of this.groups.values()) {
      g.bound = await g.source.bind(env);
      g.executors = g.pipelines.map(
        (p) =>
          new PipelineExecutor(p, {
            app: this.app.name,
            deadLetters: this.deadLetters,
            metrics: this.metrics,
            log: this.log,
          }),
      );
    }
    // stop() may have been called while this was setting up: then there is nothing to start.
    if (this.stopping) return;
    this.keeper.startRenewing(this.opts.renewIntervalMs);
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
      this.loopWake?.();
      const graceful = this.shutdown();
      const timer = new AbortController();
      const deadline = sleep(this.opts.shutdownDeadlineMs, timer.signal).then(() =>
        timer.signal.aborted ? ('ok' as const) : ('deadline' as const),
      );
      const r = await Promise.race([graceful.then(() => 'ok' as const), deadline]);
      timer.abort();
      if (r === 'deadline') {
        this.fatal ??= new TributaryError(
          'runtime.shutdownDeadline',
          `graceful stop took longer than ${this.opts.shutdownDeadlineMs} ms; leases will expire instead`,
        );
        this.log.error('shutdown deadline passed', { deadlineMs: this.opts.shutdownDeadlineMs });
      }
      if (this.ownsClients) destroyClients(this.clients);
      this.resolveDone({ error: this.fatal });
    }
    return this.done;
  }

  /** The capacity governor of a physical table (one per table per runner). */
  governor(physicalTable: string): TableGovernor {
    let g = this.governors.get(physicalTable);
    if (!g) {
      const configured = Object.entries(this.opts.capacity).find(
        ([logical]) => logical !== '*' && this.opts.tableName(logical) === physicalTable,
      );
      const config = configured?.[1] ?? this.opts.capacity['*'] ?? {};
      g = new TableGovernor(this.clients.dynamodb, physicalTable, config, this.metrics, this.log);
      this.governors.set(physicalTable, g);
      void g.start();
    }
    return g;
  }

  private async shutdown(): Promise<void> {
    await this.loop;
    for (const w of this.workers.values()) w.worker.stop();
    await Promise.all([...this.workers.values()].map((w) => w.done));
    const sinks = new Set(this.app.pipelines.flatMap((p) => p.sinks));
    await Promise.all(
      [...sinks].map(async (s) => {
        await s.flush?.();
        await s.close?.();
      }),
    );
    this.keeper.stopRenewing();
    for (const g of this.governors.values()) g.stop();
    this.log.info('runner stopped');
  }

  private async coordinate(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.discover();
        await this.takeLeases();
      } catch (e) {
        this.log.warn('lease coordination failed; retrying', { error: e });
      }
      await new Promise<void>((r) => {
        // Not unref'd: a worker holding no lease yet must stay alive to take one. Cleared when woken early.
        const t = setTimeout(r, this.opts.leaseTakeIntervalMs);
        this.loopWake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }

  private async discover(): Promise<void> {
    const now = Date.now();
    for (const g of this.groups.values()) {
      if (now - g.lastDiscovery < this.opts.discoveryIntervalMs) continue;
      const shards = await g.bound!.listShards();
      const existing = new Set(
        (await this.leases.list()).filter((l) => l.source === g.source.name).map((l) => l.shardId),
      );
      const firstTime = existing.size === 0;
      const skip = firstTime && g.source.startPosition === 'LATEST' ? closedShards(shards) : new Set<string>();
      // Parents before children: a child lease is never visible before its parents' leases.
      for (const s of topological(shards)) {
        if (existing.has(s.shardId)) continue;
        const cp: Checkpoint = skip.has(s.shardId)
          ? { kind: 'SHARD_END' }
          : firstTime
            ? initialCheckpoint(g.source.startPosition)
            : { kind: 'TRIM_HORIZON' };
        await this.leases.createIfMissing(g.source.name, s.shardId, s.parentShardIds, cp);
      }
      g.shards = shards;
      g.lastDiscovery = now;
    }
  }

  private async takeLeases(): Promise<void> {
    const all = await this.leases.list();
    const now = Date.now();
    for (const l of all) {
      const o = this.observed.get(l.leaseKey);
      if (!o || o.counter !== l.counter) this.observed.set(l.leaseKey, { counter: l.counter, since: now });
    }
    const listed = new Map<string, Set<string>>();
    for (const g of this.groups.values()) listed.set(g.source.name, new Set(g.shards.map((s) => s.shardId)));
    const mine = all.filter((l) => this.groups.has(l.source));
    const plan = planTakes(mine, {
      me: this.workerId,
      held: new Set(this.workers.keys()),
      expired: (l) => now - (this.observed.get(l.leaseKey)?.since ?? now) > this.opts.leaseDurationMs,
      listed: (source, shardId) => listed.get(source)?.has(shardId) ?? false,
    });
    this.log.debug('lease round', {
      leases: mine.length,
      take: plan.take.map((l) => l.leaseKey),
      handoff: plan.handoff?.leaseKey,
      held: this.keeper.count,
    });
    for (const l of plan.take) {
      if (this.stopping) return;
      const taken = await this.keeper.take(l);
      if (taken) this.startWorker(taken);
    }
    if (plan.handoff && !this.stopping) await this.leases.requestHandoff(plan.handoff, this.workerId);
    this.metrics.set('tributary_leases_held', {}, this.keeper.count);
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
      g.bound!,
      g.executors!,
      { keeper: this.keeper, deadLetters: this.deadLetters, metrics: this.metrics, log: this.log, app: this.app.name },
      { maxBatchesInFlight: this.opts.maxBatchesInFlight, checkpointIntervalMs: this.opts.checkpointIntervalMs },
    );
    this.log.info('shard started', { source: lease.source, shard: lease.shardId, from: lease.checkpoint });
    const done = worker.run().then((r) => this.onWorkerDone(lease, r.outcome, r.error));
    this.workers.set(lease.leaseKey, { worker, done });
  }

  private async onWorkerDone(lease: Lease, outcome: ShardOutcome, error: unknown): Promise<void> {
    this.workers.delete(lease.leaseKey);
    const fields = { source: lease.source, shard: lease.shardId, outcome };
    if (outcome === 'lost') {
      this.keeper.drop(lease.leaseKey);
      this.metrics.inc('tributary_leases_lost_total', { source: lease.source });
      this.log.warn('shard lease lost', fields);
      return;
    }
    if (outcome === 'failed') {
      this.log.error('shard failed', { ...fields, error });
      if ((error as TributaryError | undefined)?.code === 'runtime.failFast') {
        this.fatal ??= error;
        await this.keeper.release(lease.leaseKey).catch(() => undefined);
        void this.stop();
        return;
      }
    } else this.log.info('shard finished', fields);
    await this.keeper
      .release(lease.leaseKey)
      .catch((e: unknown) => this.log.warn('lease release failed', { ...fields, error: e }));
    // A finished parent makes its children ready: look again now rather than at the next tick.
    if (outcome === 'ended') this.loopWake?.();
    if (outcome === 'failed' && !this.stopping) await sleep(1_000);
  }
}

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new TributaryError('config.invalid', `${name} must be a positive number, got '${v}'`);
  return n;
}

function initialCheckpoint(p: StartPosition): Checkpoint {
  if (p === 'TRIM_HORIZON' || p === 'LATEST') return { kind: p };
  return { kind: 'AT_TIMESTAMP', timestamp: p.atTimestamp.getTime() };
}

function topological(shards: readonly ShardInfo[]): ShardInfo[] {
  const byId = new Map(shards.map((s) => [s.shardId, s]));
  const out: ShardInfo[] = [];
  const seen = new Set<string>();
  const visit = (s: ShardInfo) => {
    if (seen.has(s.shardId)) return;
    seen.add(s.shardId);
    for (const p of s.parentShardIds) {
      const ps = byId.get(p);
      if (ps) visit(ps);
    }
    out.push(s);
  };
  shards.forEach(visit);
  return out;
}
