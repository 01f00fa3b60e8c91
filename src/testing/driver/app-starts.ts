import { tap as peek, type Subscription } from 'rxjs';
import { TributaryError } from '../../core/errors.js';
import type { AppDef } from '../../core/pipeline.js';
import { silentLogger, type Logger } from '../../observe/log.js';
import { Metrics } from '../../observe/metrics.js';
import type { RunnerOptions } from '../../runtime/options.js';
import { Runner } from '../../runtime/runner.js';
import type { TapEvent } from '../../taps/events.js';
import type { InProcessServices, Connection } from './services.js';

/** Where the app is to crash: as the `record`-th record (from 1) reaches a pipeline's operators. */
export interface CrashPoint {
  /** The pipeline whose records are counted. Default the app's first. */
  readonly pipeline?: string;
  readonly record: number;
  /** Start the app again at once, as a supervisor would. Default true. */
  readonly restart?: boolean;
}

/** One start of the app: its runner, its own connection (what a crash severs), its metrics. */
export interface AppStart {
  readonly runner: Runner;
  readonly connection: Connection;
  readonly metrics: Metrics;
  readonly taps: readonly Subscription[];
}

/**
 * The starts of an app on the driver's services, one at a time: each on a fresh instance of the
 * app (as each process has its own views) with a connection of its own, and a crash that severs
 * that connection so the dead start reaches nothing again. Collects what the taps publish over
 * every start, and the error a start stopped with.
 */
export class AppStarts {
  /** The instance of the current (or last) start. */
  app!: AppDef;
  current: AppStart | undefined;
  /** A restart under way after a crash. */
  recovering: Promise<void> | undefined;
  /** The error the current start stopped with, or a restart failed with. */
  failure: unknown;
  readonly tapLog = new Map<string, TapEvent[]>();
  private crashPoint: (CrashPoint & { seen: number }) | undefined;
  private starts = 0;
  private stopping = false;

  constructor(
    private readonly build: () => AppDef,
    /** False for an app given as a value: it cannot be started twice. */
    private readonly rebuildable: boolean,
    private readonly services: InProcessServices,
    private readonly opts: {
      readonly runner?: Omit<RunnerOptions, 'clients' | 'clock' | 'metrics' | 'log' | 'workerId' | 'progressBar'>;
      readonly log?: Logger;
      /** Runs a piece of the start on the virtual clock. */
      readonly run: <T>(work: Promise<T>) => Promise<T>;
    },
  ) {}

  /** A fresh instance of the app, with a first operator in each pipeline that counts records towards an armed crash. */
  instance(): AppDef {
    const app = this.build();
    this.app = {
      ...app,
      pipelines: app.pipelines.map((p) => ({ ...p, operators: [peek(() => this.seen(p.name)), ...p.operators] })),
    };
    return this.app;
  }

  /** Starts the app on the instance `instance()` made last (or a new one). */
  async launch(app: AppDef = this.instance()): Promise<void> {
    const connection = this.services.connect();
    const metrics = new Metrics();
    const runner = new Runner(app, {
      ...this.opts.runner,
      clients: connection.clients,
      metrics,
      log: this.opts.log ?? silentLogger,
      workerId: `test-driver-${++this.starts}`,
    });
    await this.opts.run(runner.start());
    const taps = runner.tapNames().map((name) =>
      runner
        .tap(name)!
        .values()
        .subscribe((e) => this.tapLog.set(name, [...(this.tapLog.get(name) ?? []), e])),
    );
    this.current = { runner, connection, metrics, taps };
    void runner.done.then(({ error }) => {
      if (error && this.current?.runner === runner && !this.stopping) this.failure = error;
    });
  }

  /** See `TestDriver.crashAt`. */
  crashAt(point: CrashPoint): void {
    this.needsRebuild('crash');
    const pipeline = point.pipeline ?? this.app.pipelines[0]?.name;
    if (!this.app.pipelines.some((p) => p.name === pipeline))
      throw new TributaryError('config.invalid', `the app has no pipeline '${String(pipeline)}' to crash at`);
    this.crashPoint = { ...point, pipeline, seen: 0 };
  }

  /**
   * Cuts the current start off from the services and lets it die; a restart follows at once if
   * asked, as a supervisor restarts a killed process. The dead start's requests go unanswered,
   * so it does nothing more; its stop gives up at its deadline, in the background.
   */
  kill(restart: boolean): void {
    this.needsRebuild('crash');
    const dead = this.current;
    if (!dead) return;
    dead.connection.sever();
    this.drop();
    void dead.runner.stop();
    if (restart)
      this.recovering = this.launch()
        .catch((e: unknown) => void (this.failure = e))
        .finally(() => (this.recovering = undefined));
  }

  /** Stops the current start gracefully (after any restart under way). */
  async stop(final: boolean): Promise<void> {
    if (final) this.stopping = true;
    if (this.recovering) await this.opts.run(this.recovering).catch(() => undefined);
    const current = this.current;
    this.drop();
    if (current) await this.opts.run(current.runner.stop());
  }

  /** The current start; `testing.notRunning` after a crash without restart, or a stop. */
  live(): AppStart {
    if (!this.current) throw new TributaryError('testing.notRunning', 'the app is not running (crashed or stopped)');
    return this.current;
  }

  needsRebuild(what: string): void {
    if (!this.rebuildable)
      throw new TributaryError(
        'testing.notRunning',
        `to ${what} the app, give TestDriver.start a function that builds it: each start needs fresh views, as a new process has`,
      );
  }

  private drop(): void {
    for (const s of this.current?.taps ?? []) s.unsubscribe();
    this.current = undefined;
  }

  private seen(pipeline: string): void {
    const at = this.crashPoint;
    if (!at || at.pipeline !== pipeline || ++at.seen < at.record) return;
    this.crashPoint = undefined;
    this.kill(at.restart ?? true);
  }
}
