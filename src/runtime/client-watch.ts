import type { Clients } from '../core/clients.js';
import type { AttemptTarget, OutageReporter } from '../observe/outage-reporter.js';
import { endpointOf, type Middleware, type MiddlewareStackLike } from './call-target.js';

/** What a runner hangs on the clients it uses. */
export interface ClientWatchOptions {
  /** Hears every attempt of every call: failures that are outages, and the successes that end them. */
  readonly outages: OutageReporter;
  /**
   * Once aborted, every attempt not yet sent fails at once with the signal's reason, and every attempt
   * in flight is abandoned with it. Set only on clients the runner owns: shared clients serve others too.
   */
  readonly halt?: AbortSignal;
}

/**
 * Adds the runner's middleware to each client and returns what removes it. The middleware sits
 * innermost in the finalize step, inside the SDK's retry middleware, so it sees each attempt, and
 * each is reported to one runner: clients made before a runner, or shared by two, report to each
 * runner that watches them while it runs.
 *
 * @example
 * ```ts
 * const unwatch = watchClients(clients, { outages });
 * await work();
 * unwatch();
 * ```
 */
export function watchClients(clients: Clients, opts: ClientWatchOptions): () => void {
  const { outages, halt } = opts;
  const middleware: Middleware = (next, context) => async (args) => {
    halt?.throwIfAborted();
    const target: AttemptTarget = {
      service: context.clientName ?? 'unknown',
      operation: context.commandName ?? 'unknown',
      endpoint: endpointOf(args.request),
    };
    try {
      const out = await (halt ? abandonOn(next(args), halt) : next(args));
      outages.succeeded(target);
      return out;
    } catch (e) {
      if (!halt?.aborted && isOutage(e)) outages.failed(target, e);
      throw e;
    }
  };
  const stacks = [...new Set([clients.dynamodb, clients.dynamodbData, clients.streams, clients.kinesis])]
    .filter((c) => c !== undefined)
    .map((c) => c.middlewareStack as unknown as MiddlewareStackLike);
  for (const s of stacks) s.add(middleware, { step: 'finalizeRequest', priority: 'low' });
  return () => {
    for (const s of stacks) s.remove(middleware);
  };
}

/**
 * An outage is an attempt the service did not answer (refused, reset, timed out) or answered with a
 * server error. A 4xx is an answer (a failed condition, a throttle, which the capacity metrics
 * count), and an abort is the caller's choice.
 */
function isOutage(e: unknown): boolean {
  if (!(e instanceof Error) || e.name === 'AbortError') return false;
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === undefined || status >= 500;
}

/** Settles as `p` does, or rejects with the signal's reason as soon as it aborts. */
function abandonOn<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
