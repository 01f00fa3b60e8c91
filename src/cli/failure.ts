import { isTributaryError, TributaryError } from '../core/errors.js';
import { callTargetOf } from '../runtime/call-target.js';

/** Node's codes for a connection that never got an answer. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Which setting points each client at its endpoint, for the hint in the message. */
const SETTING: Readonly<Record<string, string>> = {
  DynamoDBClient: 'TRIBUTARY_DYNAMODB_ENDPOINT',
  DynamoDBStreamsClient: 'TRIBUTARY_DYNAMODB_ENDPOINT',
  KinesisClient: 'TRIBUTARY_KINESIS_ENDPOINT',
};

/**
 * What the CLI reports for a failure: an unanswered AWS call (refused, unknown host, timed out),
 * thrown as the SDK threw it or as the cause of a TributaryError, becomes `service.unreachable`
 * naming the service and the endpoint; anything else is returned as it is.
 *
 * @example
 * ```ts
 * const e = cliFailure(err); // TributaryError 'service.unreachable': DynamoDB at http://127.0.0.1:1 did not answer ...
 * ```
 */
export function cliFailure(e: unknown): unknown {
  const raw = isTributaryError(e) ? e.cause : e;
  const code = (raw as { code?: unknown } | undefined)?.code;
  const timedOut = (raw as Error | undefined)?.name === 'TimeoutError';
  if (!(typeof code === 'string' && UNREACHABLE.has(code)) && !timedOut) return e;
  const target = callTargetOf(raw);
  if (!target) return e;
  const service = target.service.replace(/Client$/, '');
  const setting = SETTING[target.service];
  return new TributaryError(
    'service.unreachable',
    `${service} at ${target.endpoint} did not answer ${target.operation.replace(/Command$/, '')} (${code ?? 'timed out'})` +
      (setting ? `; check ${setting}` : ''),
    { details: { ...target }, cause: raw },
  );
}
