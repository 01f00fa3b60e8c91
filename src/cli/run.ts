import type { AppDef } from '../core/pipeline.js';
import type { RuntimeSettings } from '../core/runtime-settings.js';
import { Runner } from '../runtime/runner.js';
import { tablePrefix } from '../views/tables/naming.js';
import { cliFailure } from './failure.js';
import { serveRunner } from './serve.js';
import { onStopSignals } from './signals.js';

/** Flags of `tributary run`. */
export interface RunFlags {
  /** This worker's identity in the lease table. Default host name + pid + random suffix. */
  readonly workerId?: string;
  /** Time a graceful stop may take after SIGTERM/SIGINT. Default the runner's (30 s). */
  readonly shutdownDeadlineMs?: number;
  /** Environment prefix of every table the app uses, leases and dead letters included. */
  readonly prefix?: string;
  /** Runtime settings given as flags (`--port`, `--lease-duration-ms`, ...): they win over the environment and the app. */
  readonly settings?: RuntimeSettings;
}

/**
 * `tributary run`: runs an app against the services the environment points at (`AWS_REGION`,
 * `TRIBUTARY_DYNAMODB_ENDPOINT`, `TRIBUTARY_KINESIS_ENDPOINT`) until SIGTERM/SIGINT, then stops
 * gracefully. Logs are JSON lines on stderr. Resolves with the exit code: 0 after a clean stop,
 * 1 when the runner failed (e.g. a fail-fast pipeline) or could not start.
 *
 * @example
 * ```ts
 * process.exitCode = await runCommand(await loadApp('examples/shop.ts'), { workerId: 'w1' });
 * ```
 */
export async function runCommand(def: AppDef, flags: RunFlags = {}): Promise<number> {
  // The runner makes and owns its clients (from the environment): past its stop deadline it cancels
  // what runs on them and closes them, so the process ends without an exit hiding hung work.
  const runner = new Runner(def, {
    ...flags.settings,
    workerId: flags.workerId,
    shutdownDeadlineMs: flags.shutdownDeadlineMs,
    tableName: tablePrefix(flags.prefix).physical,
    // A backfill draws its progress as a bar where a person watches; logs carry it everywhere.
    progressBar: process.stdout.isTTY === true,
  });
  let started = false;
  let stopRequested = false;
  const dispose = onStopSignals((signal) => {
    runner.log.info('signal received; stopping gracefully (send it again to exit at once)', { signal });
    stopRequested = true;
    // Stopping a runner half-way through start() would race its setup; stop once it is up.
    if (started) void runner.stop();
  });
  let server: Awaited<ReturnType<typeof serveRunner>>;
  try {
    try {
      // Served before the start: a probe sees a live, not yet ready, worker while tables are checked.
      server = await serveRunner(runner);
      await runner.start();
    } catch (e) {
      // An endpoint that did not answer is named (service, endpoint), not only `connect ECONNREFUSED`.
      runner.log.error('runner could not start', { error: cliFailure(e) });
      return 1;
    }
    started = true;
    if (stopRequested) void runner.stop();
    const { error } = await runner.done;
    if (error !== undefined) {
      runner.log.error('runner stopped with an error', { error });
      return 1;
    }
    return 0;
  } finally {
    await server?.close();
    dispose();
  }
}
