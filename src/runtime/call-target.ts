import type { Clients } from '../core/clients.js';

/** Which service, operation and endpoint a failed AWS call was sent to. */
export interface CallTarget {
  /** The SDK client's name, e.g. `DynamoDBClient`. */
  readonly service: string;
  /** The command, e.g. `DescribeTableCommand`. */
  readonly operation: string;
  /** `protocol//host:port` the request went to. */
  readonly endpoint: string;
}

const TARGET = Symbol('tributary.callTarget');

interface HttpRequestLike {
  readonly protocol?: string;
  readonly hostname?: string;
  readonly port?: number;
}
/** The SDK's middleware shapes, typed structurally for the few fields tributary's middleware reads. */
export type Next = (args: { request: unknown }) => Promise<unknown>;
export type Middleware = (next: Next, context: { clientName?: string; commandName?: string }) => Next;
export interface MiddlewareStackLike {
  add(mw: Middleware, opts: { step: 'finalizeRequest'; priority: 'low'; name?: string }): void;
  remove(mw: Middleware): boolean;
}

/**
 * Marks every error the clients throw with where the call went: a refused connection says only
 * `connect ECONNREFUSED 127.0.0.1:8000`, and a person reading it needs to know which service and
 * which setting (`TRIBUTARY_DYNAMODB_ENDPOINT`, ...) to check. The mark is a symbol, so logs and
 * error comparisons do not see it; read it with {@link callTargetOf}.
 *
 * @example
 * ```ts
 * tagCallTargets(clients);
 * try { await clients.dynamodb.send(cmd); } catch (e) { console.error(callTargetOf(e)?.endpoint); }
 * ```
 */
export function tagCallTargets(clients: Clients): void {
  const middleware: Middleware = (next, context) => async (args) => {
    try {
      return await next(args);
    } catch (e) {
      if (typeof e === 'object' && e !== null) {
        const target: CallTarget = {
          service: context.clientName ?? 'unknown',
          operation: context.commandName ?? 'unknown',
          endpoint: endpointOf(args.request),
        };
        Object.defineProperty(e, TARGET, { value: target, configurable: true });
      }
      throw e;
    }
  };
  for (const c of new Set([clients.dynamodb, clients.dynamodbData, clients.streams, clients.kinesis]))
    (c?.middlewareStack as unknown as MiddlewareStackLike | undefined)?.add(middleware, {
      step: 'finalizeRequest',
      priority: 'low',
      name: 'tributaryCallTarget',
    });
}

/** Where the call that threw `e` went, when a client tagged by {@link tagCallTargets} threw it. */
export function callTargetOf(e: unknown): CallTarget | undefined {
  return typeof e === 'object' && e !== null ? (e as { [TARGET]?: CallTarget })[TARGET] : undefined;
}

/** `protocol//host:port` of an SDK HTTP request, or `unknown`. */
export function endpointOf(request: unknown): string {
  const r = request as HttpRequestLike | undefined;
  if (!r?.hostname) return 'unknown';
  return `${r.protocol ?? 'https:'}//${r.hostname}${r.port ? `:${r.port}` : ''}`;
}
