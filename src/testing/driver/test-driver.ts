import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { Clients } from '../../core/clients.js';
import type { AppDef } from '../../core/pipeline.js';
import type { TableSpec } from '../../core/tables.js';
import type { Logger } from '../../observe/log.js';
import type { Metrics } from '../../observe/metrics.js';
import { LeaseTable } from '../../runtime/leases/table.js';
import type { RunnerOptions } from '../../runtime/options.js';
import type { Runner } from '../../runtime/runner.js';
import { readDeadLetters, type StoredDeadLetter } from '../../sinks/dead-letter-entries.js';
import type { TapEvent } from '../../taps/events.js';
import { createAppTables } from '../app-tables.js';
import { unfinished } from '../caught-up.js';
import { createStream, createTable } from '../tables.js';
import type { Faults } from './faults.js';
import { DriverStream, DriverTable } from './handles.js';
import { AppStarts, type CrashPoint } from './app-starts.js';
import { InProcessServices } from './services.js';
import { VirtualTime } from './virtual-time.js';

/** Options of {@link TestDriver.start}. */
export interface TestDriverOptions {
  /** Tables to create besides the app's own (`tables`, `dev.tables` and its views'). */
  readonly tables?: readonly TableSpec[];
  /** Kinesis streams to create besides the app's `dev.streams`. */
  readonly streams?: readonly { readonly name: string; readonly shards: number }[];
  /** Virtual time at start, epoch ms or a Date. Default 2026-01-01T00:00:00Z, so runs repeat exactly. */
  readonly startTime?: number | Date;
  /** Runner settings (lease, checkpoint and discovery timings, capacity budgets), as `new Runner` takes them. */
  readonly runner?: Omit<RunnerOptions, 'clients' | 'clock' | 'metrics' | 'log' | 'workerId' | 'progressBar'>;
  /** The app's logger. Default silent. */
  readonly log?: Logger;
  /** Most virtual time `settle()` and other waits may take before failing with `testing.notSettled`. Default 10 minutes. */
  readonly maxVirtualMs?: number;
  /** Region of the ARNs. Default us-east-1. */
  readonly region?: string;
}

/** A shard's checkpoint in the lease table. */
export interface DriverCheckpoint {
  readonly source: string;
  readonly shardId: string;
  /** A sequence number, or TRIM_HORIZON, LATEST, SHARD_END... */
  readonly checkpoint: string;
  readonly owner?: string;
}

const DEFAULT_START = Date.UTC(2026, 0, 1);

/**
 * Runs an app in this process on in-memory DynamoDB, DynamoDB Streams and Kinesis, on a virtual
 * clock: no emulator, no Java, no network, and a test of the app takes milliseconds. As Kafka
 * Streams' `TopologyTestDriver`: write to the source tables and streams, `settle()` (time moves
 * until every record is applied and checkpointed), then read the views, dead letters,
 * checkpoints, tap events and metrics. Faults (a table that throttles or fails for a while) and
 * crashes at a chosen record test the app's guarantees. The app is the real runtime (leases,
 * checkpoints, governed writes, views, taps) on SDK clients whose requests are answered in-process.
 *
 * Pass a function that builds the app to crash or restart it: each start needs fresh views, as a
 * new process has. Needs the optional peer `dynalite` (DynamoDB's expression parsers and
 * validation). Fakes the process's `Date` and timers while it runs (`stop()` restores them), so
 * one driver runs at a time, and not beside `vi.useFakeTimers()`.
 *
 * @example
 * ```ts
 * const driver = await TestDriver.start(() => shop(), { tables: [ordersTable] });
 * await driver.table('orders').put({ id: 'o1', customer: 'ada' });
 * await driver.settle();
 * expect(await driver.table('per_customer').items()).toEqual([{ customer: 'ada', orders: 1 }]);
 * await driver.stop();
 * ```
 */
export class TestDriver {
  /** Clients of the test itself, on the same in-memory services; never crashed. */
  readonly clients: Clients;
  /** The driver's own reads (leases, dead letters): faults injected by the test do not reach them. */
  private readonly inspector: Clients;
  private readonly starts: AppStarts;
  private stopped = false;

  private constructor(
    app: AppDef | (() => AppDef),
    private readonly time: VirtualTime,
    private readonly services: InProcessServices,
    private readonly options: TestDriverOptions,
  ) {
    this.clients = services.connect().clients;
    this.inspector = services.connect({ faults: false }).clients;
    this.starts = new AppStarts(typeof app === 'function' ? app : () => app, typeof app === 'function', services, {
      runner: options.runner,
      log: options.log,
      run: (w) => this.run(w),
    });
  }

  /** Creates the app's tables and streams on fresh in-memory services and starts the app. */
  static async start(app: AppDef | (() => AppDef), options: TestDriverOptions = {}): Promise<TestDriver> {
    const start =
      options.startTime instanceof Date ? options.startTime.getTime() : (options.startTime ?? DEFAULT_START);
    let services: InProcessServices | undefined;
    const time = new VirtualTime(start, {
      get inFlight() {
        return services?.inFlight ?? 0;
      },
    });
    try {
      services = new InProcessServices({
        region: options.region ?? 'us-east-1',
        now: () => time.now(),
        onWait: () => time.fireDue(),
      });
      const driver = new TestDriver(app, time, services, options);
      await driver.firstStart();
      return driver;
    } catch (e) {
      time.uninstall();
      throw e;
    }
  }

  /** The runner of the app's current start. */
  get runner(): Runner {
    return this.starts.live().runner;
  }

  /** Metrics of the app's current start (counters count from that start). */
  get metrics(): Metrics {
    return this.starts.live().metrics;
  }

  /** Faults to inject into tables and streams. */
  get faults(): Faults {
    return this.services.faults;
  }

  /** Epoch milliseconds on the virtual clock. */
  now(): number {
    return this.time.now();
  }

  /** A table, to write source items and read views. */
  table<T extends object = Record<string, unknown>>(name: string): DriverTable<T> {
    return new DriverTable<T>(name, this.clients, this.services, (w) => this.run(w));
  }

  /** A Kinesis stream, to put records and split shards. */
  stream(name: string): DriverStream {
    return new DriverStream(name, this.clients, (w) => this.run(w));
  }

  /**
   * Moves virtual time on until the app has applied (or dead-lettered) and checkpointed every
   * record in the driver's streams, and any crash-restart has finished. Fails with
   * `testing.notSettled`, saying which shards are behind, past `maxVirtualMs`; with the app's
   * own error if it stopped.
   */
  async settle(): Promise<void> {
    let behind: string[] = [];
    await this.time.runUntil(
      async () => {
        this.rethrow();
        if (this.starts.recovering) return false;
        this.starts.live();
        behind = unfinished(this.starts.app, await this.leases().list(), [
          ...this.services.dynamodb.streams.tips(),
          ...this.services.kinesis.tips(),
        ]);
        return behind.length === 0;
      },
      this.maxMs,
      () => `the app has not caught up (${behind.join('; ') || 'restarting'})`,
    );
  }

  /**
   * Moves virtual time forward by `ms`, firing on the way every timer of the app in order (flushes,
   * checkpoints, lease renewals and expiry, tap windows), then removes the items whose time to
   * live has passed, as DynamoDB's TTL process does.
   */
  async advance(ms: number): Promise<void> {
    await this.time.advance(ms);
    await this.expireTtl();
    await this.time.quiesce();
    this.rethrow();
  }

  /** Runs `work` (the test's own calls through `clients`) on the virtual clock until it settles, and returns its result. */
  async run<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const watched = work.finally(() => (done = true));
    watched.catch(() => undefined);
    await this.time.runUntil(
      () => done,
      this.maxMs,
      () => 'the work has not finished',
    );
    return watched;
  }

  /** Entries of the app's dead-letter table, optionally of one pipeline. */
  deadLetters(pipeline?: string): Promise<StoredDeadLetter[]> {
    return this.run(readDeadLetters(this.inspector.dynamodb, this.starts.app.deadLetters.tableName, { pipeline }));
  }

  /** Every shard's checkpoint, from the lease table. */
  async checkpoints(): Promise<DriverCheckpoint[]> {
    const leases = await this.run(this.leases().list());
    return leases.map((l) => ({
      source: l.source,
      shardId: l.shardId,
      checkpoint: l.checkpoint.kind === 'sequence' ? l.checkpoint.sequenceNumber : l.checkpoint.kind,
      ...(l.owner ? { owner: l.owner } : {}),
    }));
  }

  /** The events a tap has published since the driver started (every start of the app), oldest first. */
  tapEvents(name: string): readonly TapEvent[] {
    return this.starts.tapLog.get(name) ?? [];
  }

  /**
   * Arms a crash: as the `record`-th record reaches the pipeline, the app dies as a killed process
   * does. None of its requests reach the services any more, whatever it had buffered is lost, and
   * its leases stay taken until they expire. With `restart` (the default) a new start of the app
   * follows at once and takes the leases over once they expire; `settle()` waits for it.
   */
  crashAt(point: CrashPoint): void {
    this.starts.crashAt(point);
  }

  /** Crashes the app now (see {@link crashAt}), without a restart: `restart()` starts it again. */
  crash(): void {
    this.starts.kill(false);
  }

  /** Starts the app again after a crash or a stop, with fresh views, on the same tables and streams. */
  async restart(): Promise<void> {
    this.starts.needsRebuild('restart');
    await this.starts.stop(false);
    await this.starts.launch();
  }

  /** Removes the items whose time to live has passed, in every table with TTL on. Returns how many. */
  async expireTtl(): Promise<number> {
    const tables = (await this.run(this.clients.dynamodb.send(new ListTablesCommand({})))).TableNames ?? [];
    const seconds = Math.floor(this.now() / 1000);
    let removed = 0;
    for (const t of tables) removed += await this.run(this.services.dynamodb.expire(t, seconds));
    return removed;
  }

  /** Stops the app gracefully and gives the process its own clock back. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.starts.stop(true);
    } finally {
      this.time.uninstall();
    }
  }

  private get maxMs(): number {
    return this.options.maxVirtualMs ?? 600_000;
  }

  /** Creates the app's tables and streams, then starts it. */
  private async firstStart(): Promise<void> {
    const app = this.starts.instance();
    await this.run(createAppTables(this.clients, app));
    for (const t of this.options.tables ?? []) await this.run(createTable(this.clients.dynamodb, t));
    for (const s of this.options.streams ?? []) await this.run(createStream(this.clients.kinesis, s.name, s.shards));
    await this.starts.launch(app);
  }

  private leases(): LeaseTable {
    return new LeaseTable(this.inspector.dynamodb, this.starts.app.leaseTable);
  }

  private rethrow(): void {
    if (this.starts.failure) throw this.starts.failure;
  }
}
