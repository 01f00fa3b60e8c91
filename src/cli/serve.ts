import { startHttpServer, type HttpServer } from '../observe/http/server.js';
import type { Runner } from '../runtime/runner.js';
import { isTributaryError } from '../core/errors.js';

/**
 * Starts the HTTP server of `run` and `dev` on the runner's `port` (flag, `TRIBUTARY_PORT`, the
 * app's `runtime.port`, default 9400), unless it is 0. With `fallback` (dev), a port in use is
 * replaced by a free one rather than failing: two dev runs on one machine should both work.
 *
 * @example
 * ```ts
 * const server = await serveRunner(runner);
 * // ...
 * await server?.close();
 * ```
 */
export async function serveRunner(runner: Runner, opts: { fallback?: boolean } = {}): Promise<HttpServer | undefined> {
  const { port, host, statusSampleMs } = runner.options;
  if (port === 0) return undefined;
  const start = (p: number) => startHttpServer(runner, { port: p, host, pushMs: statusSampleMs, log: runner.log });
  let server: HttpServer;
  try {
    server = await start(port);
  } catch (e) {
    if (!opts.fallback || !isTributaryError(e, 'config.invalid')) throw e;
    server = await start(0);
    runner.log.warn('HTTP port in use; serving on a free one instead', { wanted: port, port: server.port });
  }
  runner.log.info('serving health, metrics and status', {
    url: server.url,
    endpoints: ['/livez', '/readyz', '/metrics', '/status.json', '/'],
  });
  return server;
}
