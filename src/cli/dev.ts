import type { Clients } from '../core/clients.js';
import type { AppDef } from '../core/pipeline.js';
import { sleep } from '../core/time.js';
import { jsonLogger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import { createClients, destroyClients } from '../runtime/clients.js';
import { Runner } from '../runtime/runner.js';
import { createAppTables } from '../testing/app-tables.js';
import { counts, DevProgress } from './dev-progress.js';
import { EmulatorGuard } from './emulator-guard.js';
import { serveRunner } from './serve.js';
import { onStopSignals } from './signals.js';

/** Flags of `tributary dev`. */
export interface DevFlags {
  /** Stop by itself after this long (traffic stops, the pipeline catches up, a final report). Default: run until Ctrl-C. */
  readonly durationMs?: number;
  /** How often progress and the report are printed. Default 3,000 ms. */
  readonly progressEveryMs?: number;
  /** Port of the HTTP server (health, metrics, status page); 0 turns it off. Default the app's, or 9400 (a free one when taken). */
  readonly port?: number;
}

/** Short lease and discovery cycles: a dev run should show results within seconds. */
const DEV_RUNNER = {
  leaseDurationMs: 6_000,
  leaseTakeIntervalMs: 500,
  discoveryIntervalMs: 2_000,
  shutdownDeadlineMs: 10_000,
} as const;

/**
 * `tributary dev`: starts local emulators, creates the app's tables (its own, its views' and `dev.tables`) and `dev.streams`,
 * runs the app against them beside its `dev.traffic`, and prints progress and `dev.report`
 * output every few seconds on stdout (runner logs go to stderr at `warn` unless
 * `TRIBUTARY_LOG_LEVEL` says otherwise). Ends after `durationMs` or at Ctrl-C; the emulators are
 * stopped on every exit path. Resolves with the exit code: 0, or 1 when the runner failed.
 *
 * @example
 * ```ts
 * process.exitCode = await devCommand(await loadApp('examples/shop.ts'), { durationMs: 45_000 });
 * ```
 */
export async function devCommand(def: AppDef, flags: DevFlags = {}): Promise<number> {
  const out = (line: string) => void process.stdout.write(line + '\n');
  const interrupted = new AbortController();
  const guard = new EmulatorGuard();
  const disposeSignals = onStopSignals(
    (signal) => {
      out(`${signal}: stopping (again to exit at once)`);
      interrupted.abort();
    },
    () => guard.killNow(),
  );
  let clients: Clients | undefined;
  try {
    out(`tributary dev: app '${def.name}', pipelines ${def.pipelines.map((p) => p.name).join(', ')}`);
    let emu;
    try {
      emu = await guard.start();
    } catch (e) {
      // A Ctrl-C in a terminal also ends emulators that are still starting: that is not a failure.
      if (!interrupted.signal.aborted) throw e;
      out('interrupted while the emulators were starting');
      return 0;
    }
    out(
      `emulators: pids ${emu.pids.join(' ') || '(none: endpoints from the environment)'} — dynamodb ${emu.endpoints.dynamodb}, kinesis ${emu.endpoints.kinesis}`,
    );
    if (interrupted.signal.aborted) return 0;
    clients = createClients({
      region: 'us-east-1',
      dynamodbEndpoint: emu.endpoints.dynamodb,
      kinesisEndpoint: emu.endpoints.kinesis,
    });
    await createAppTables(clients, def);
    return await runDev(def, clients, guard, flags, interrupted.signal, out);
  } finally {
    if (clients) destroyClients(clients);
    await guard.stop();
    guard.dispose();
    disposeSignals();
    out('emulators stopped');
  }
}

async function runDev(
  def: AppDef,
  clients: Clients,
  guard: EmulatorGuard,
  flags: DevFlags,
  interrupted: AbortSignal,
  out: (line: string) => void,
): Promise<number> {
  const log = jsonLogger({ level: process.env.TRIBUTARY_LOG_LEVEL ? undefined : 'warn' });
  const runner = new Runner(def, {
    ...DEV_RUNNER,
    ...(flags.port === undefined ? {} : { port: flags.port }),
    clients,
    log,
    progressBar: process.stdout.isTTY === true,
  });
  const server = await serveRunner(runner, { fallback: true });
  if (server) {
    out(`status page ${server.url}/ (health /livez /readyz, metrics /metrics, status /status.json)`);
    for (const t of runner.tapNames())
      out(`tap ${t}: live chart ${server.url}/taps/${t}/view, events ${server.url}/taps/${t}`);
  }
  try {
    return await runStarted(runner, def, { clients, guard, flags, interrupted, out });
  } finally {
    await server?.close();
  }
}

async function runStarted(
  runner: Runner,
  def: AppDef,
  ctx: {
    clients: Clients;
    guard: EmulatorGuard;
    flags: DevFlags;
    interrupted: AbortSignal;
    out: (line: string) => void;
  },
): Promise<number> {
  const { clients, guard, flags, interrupted, out } = ctx;
  await runner.start();
  const trafficStop = new AbortController();
  const traffic = def.dev
    ?.traffic?.({ clients, tableName: (n) => n, signal: trafficStop.signal })
    .catch((e: unknown) => {
      if (!trafficStop.signal.aborted) out(`traffic failed: ${(e as Error).message ?? String(e)}`);
    });
  const progress = new DevProgress(def, runner.metrics, clients, out).start(flags.progressEveryMs ?? 3_000);
  out(
    `running${flags.durationMs === undefined ? ' until Ctrl-C' : ` for ${flags.durationMs} ms`}${traffic ? ' with generated traffic' : ''}`,
  );

  const waiting = new AbortController();
  const ended = await Promise.race([
    sleep(flags.durationMs ?? 2 ** 31 - 1, AbortSignal.any([interrupted, waiting.signal])).then(() =>
      interrupted.aborted ? ('signal' as const) : ('duration' as const),
    ),
    runner.done.then(() => 'runner' as const),
  ]);
  waiting.abort();
  trafficStop.abort();
  await traffic;
  if (ended === 'duration') await settle(runner.metrics, interrupted);
  await progress.stop();
  await progress.print('final', { report: !guard.exited() });

  // After a terminal Ctrl-C the emulators are gone too: a graceful stop could only time out.
  const watching = new AbortController();
  const outcome = await Promise.race([
    runner.stop(),
    guard.whenExited(watching.signal).then((gone) => (gone ? ('emulators gone' as const) : undefined)),
  ]);
  watching.abort();
  if (outcome === 'emulators gone') {
    out('the emulators exited (a Ctrl-C in a terminal reaches them too); not waiting for a graceful stop');
    return ended === 'signal' ? 0 : 1;
  }
  const c = await counts(runner.metrics);
  out(`stopped: records in ${c.recordsIn}, applied ${c.applied}, dead letters ${c.deadLetters}`);
  const error = outcome?.error;
  if (error !== undefined) {
    out(`runner stopped with an error: ${(error as Error).message ?? String(error)}`);
    return 1;
  }
  return 0;
}

/** Gives the pipeline time to apply what the traffic wrote last: at least 2 s, until the counters stop moving (at most 8 s). */
async function settle(metrics: Metrics, interrupted: AbortSignal): Promise<void> {
  const start = Date.now();
  let last = JSON.stringify(await counts(metrics));
  let stableSince = Date.now();
  while (!interrupted.aborted && Date.now() - start < 8_000) {
    await sleep(250, interrupted);
    const now = JSON.stringify(await counts(metrics));
    if (now !== last) [last, stableSince] = [now, Date.now()];
    if (Date.now() - start >= 2_000 && Date.now() - stableSince >= 1_500) return;
  }
}
