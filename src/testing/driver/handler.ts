import type { WireAnswer } from './wire.js';

/** The parts of an SDK HTTP request the in-memory services read. */
interface SdkRequest {
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

/** A service of the driver: answers one operation's JSON body. */
export type Service = (operation: string, body: Record<string, unknown>) => WireAnswer | Promise<WireAnswer>;

/**
 * An AWS SDK request handler that answers in-process, with no socket: the SDK builds and signs
 * the request and parses the answer as it does against AWS (JSON protocols, errors by `__type`),
 * and the body goes to the in-memory service its `X-Amz-Target` names. Give it to a client as
 * `requestHandler`.
 *
 * @example
 * ```ts
 * const ddb = new DynamoDBClient({ region: 'us-east-1', requestHandler: new InProcessHandler({ DynamoDB_20120810: dynamo }) });
 * ```
 */
export class InProcessHandler {
  readonly metadata = { handlerProtocol: 'in-process' };

  constructor(private readonly services: Readonly<Record<string, Service>>) {}

  async handle(
    request: SdkRequest,
  ): Promise<{ response: { statusCode: number; headers: Record<string, string>; body: Uint8Array } }> {
    const target = headerOf(request.headers, 'x-amz-target') ?? '';
    const [prefix = '', operation = ''] = target.split('.');
    const service = this.services[prefix];
    const text =
      typeof request.body === 'string'
        ? request.body
        : request.body instanceof Uint8Array
          ? new TextDecoder().decode(request.body)
          : '{}';
    const answer: WireAnswer = service
      ? await service(operation, JSON.parse(text || '{}') as Record<string, unknown>)
      : { status: 400, body: { __type: 'UnknownOperationException', message: `no in-memory service for ${target}` } };
    const body = Buffer.from(JSON.stringify(answer.body));
    return {
      response: {
        statusCode: answer.status,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'content-length': String(body.byteLength),
          'x-amzn-requestid': 'in-process',
          ...(answer.status >= 400 ? { 'x-amzn-errortype': String(answer.body.__type ?? '') } : {}),
        },
        body,
      },
    };
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {}
}

const headerOf = (headers: Record<string, string>, name: string): string | undefined => {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
};
