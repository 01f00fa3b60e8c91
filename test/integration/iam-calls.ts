import type { MiddlewareStack } from '@smithy/types';
import type { Clients } from '../../src/core/clients.js';
import type { PolicyDocument } from '../../src/runtime/iam/statements.js';

/** One AWS operation a client sent, as IAM authorizes it: an action on a resource ARN. */
export interface AwsCall {
  readonly action: string;
  readonly resource: string;
}

/** Region and account of the ARNs the recorder writes (the emulators' own fake ones are replaced). */
export interface Scope {
  readonly region: string;
  readonly account: string;
}

type Input = Record<string, unknown>;
type Handle = (
  request: { headers: Record<string, string>; body?: unknown },
  options?: unknown,
) => Promise<{
  response: { statusCode?: number; body?: unknown };
}>;

/** IAM's service prefix of each SDK client (DynamoDB Streams' actions are `dynamodb:` actions). */
const SERVICE: Record<string, string> = {
  DynamoDBClient: 'dynamodb',
  DynamoDBStreamsClient: 'dynamodb',
  KinesisClient: 'kinesis',
};

/** TransactWriteItems is no IAM action: each item is authorized as its own write. */
const TRANSACT_ACTIONS = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
};

/**
 * Records every AWS operation some clients send (every attempt, before it goes: a call the code
 * tolerates failing still needs its permission), by a middleware on each client's stack: the IAM
 * action (service + command name) and the resource it touches (TableName, each table of a batch or
 * transaction, IndexName, StreamArn, StreamName/StreamARN, ConsumerARN). GetRecords names only a
 * shard iterator: the recorder follows iterators from the GetShardIterator or GetRecords answer
 * that handed them out back to their stream. tributary parses GetRecords answers itself before any
 * middleware sees them, so those are read at the clients' HTTP handlers.
 *
 * @example
 * ```ts
 * const recorder = new CallRecorder(clients, { region: 'us-east-1', account: '123456789012' });
 * // ... run the app on `clients` ...
 * recorder.calls; // [{ action: 'dynamodb:DescribeTable', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/t' }, ...]
 * ```
 */
export class CallRecorder {
  readonly calls: AwsCall[] = [];
  /** Stream ARN of each shard iterator (and ListShards token) handed out. */
  private readonly streamOf = new Map<string, string>();

  constructor(
    clients: Clients,
    private readonly scope: Scope,
  ) {
    this.observe(clients.dynamodb.middlewareStack);
    if (clients.dynamodbData) this.observe(clients.dynamodbData.middlewareStack);
    this.observe(clients.streams.middlewareStack);
    this.observe(clients.kinesis.middlewareStack);
    for (const client of [clients.streams, clients.kinesis])
      this.tapGetRecords(client.config as unknown as { requestHandler: { handle: Handle } });
  }

  /** The distinct calls, sorted. */
  distinct(): AwsCall[] {
    const seen = new Map(this.calls.map((c) => [`${c.action} ${c.resource}`, c]));
    return [...seen.keys()].sort().map((k) => seen.get(k)!);
  }

  private observe<I extends object, O extends object>(stack: MiddlewareStack<I, O>): void {
    stack.add(
      (next, context) => async (args) => {
        const service = SERVICE[context.clientName ?? ''] ?? `unknown(${context.clientName})`;
        const op = (context.commandName ?? 'unknown').replace(/Command$/, '');
        const input = (args.input ?? {}) as Input;
        this.calls.push(...this.callsOf(service, op, input));
        const out = await next(args);
        this.learn(service, op, input, out.output as Input);
        return out;
      },
      { step: 'initialize', name: 'testIamRecorder' },
    );
  }

  private callsOf(service: string, op: string, input: Input): AwsCall[] {
    const call = (action: string, resource: string): AwsCall => ({ action: `${service}:${action}`, resource });
    if (service === 'dynamodb') {
      if (op === 'BatchWriteItem' || op === 'BatchGetItem')
        return Object.keys((input.RequestItems as Input) ?? {}).map((t) => call(op, this.table(t)));
      if (op === 'TransactWriteItems' || op === 'TransactGetItems')
        return ((input.TransactItems as Input[]) ?? []).flatMap((item) =>
          Object.entries(item).map(([kind, v]) =>
            call(
              op === 'TransactGetItems' ? 'GetItem' : TRANSACT_ACTIONS[kind as keyof typeof TRANSACT_ACTIONS],
              this.table((v as Input).TableName as string),
            ),
          ),
        );
      if (typeof input.TableName === 'string')
        return [
          call(
            op,
            input.IndexName
              ? `${this.table(input.TableName)}/index/${input.IndexName as string}`
              : this.table(input.TableName),
          ),
        ];
      if (typeof input.StreamArn === 'string') return [call(op, this.normalize(input.StreamArn))];
    }
    if (service === 'kinesis') {
      if (typeof input.ConsumerARN === 'string') return [call(op, this.normalize(input.ConsumerARN))];
      if (typeof input.StreamARN === 'string') return [call(op, this.normalize(input.StreamARN))];
      if (typeof input.StreamName === 'string') return [call(op, this.kinesisStream(input.StreamName))];
      if (typeof input.NextToken === 'string') return [call(op, this.streamOf.get(input.NextToken) ?? '?token')];
    }
    if (typeof input.ShardIterator === 'string')
      return [call(op, this.streamOf.get(input.ShardIterator) ?? '?unknown-iterator')];
    return [call(op, '?unknown-resource')];
  }

  /** Iterators and tokens the middleware sees in answers (GetRecords answers are read at the handler). */
  private learn(service: string, op: string, input: Input, output: Input | undefined): void {
    const stream =
      typeof input.StreamArn === 'string'
        ? this.normalize(input.StreamArn)
        : typeof input.StreamARN === 'string'
          ? this.normalize(input.StreamARN)
          : typeof input.StreamName === 'string' && service === 'kinesis'
            ? this.kinesisStream(input.StreamName)
            : undefined;
    if (op === 'GetShardIterator' && stream && typeof output?.ShardIterator === 'string')
      this.streamOf.set(output.ShardIterator, stream);
    if (op === 'ListShards' && typeof output?.NextToken === 'string') {
      const of = stream ?? this.streamOf.get(input.NextToken as string);
      if (of) this.streamOf.set(output.NextToken, of);
    }
  }

  /** Reads GetRecords answers' NextShardIterator at the HTTP handler, leaving the body for the SDK to read. */
  private tapGetRecords(config: { requestHandler: { handle: Handle } }): void {
    const handler = config.requestHandler;
    const handle = handler.handle.bind(handler);
    handler.handle = async (request, options) => {
      const out = await handle(request, options);
      const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'] ?? '';
      if (!target.endsWith('.GetRecords')) return out;
      const body = await bytesOf(out.response.body);
      out.response.body = body;
      if (out.response.statusCode === 200) {
        // The SDK's body is a Uint8Array that warns when used as a string: read its bytes.
        const bytes = request.body as Uint8Array | string;
        const sent =
          typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString();
        const from = JSON.parse(sent) as { ShardIterator?: string };
        const next = (JSON.parse(Buffer.from(body).toString('utf8')) as { NextShardIterator?: string })
          .NextShardIterator;
        const stream = from.ShardIterator && this.streamOf.get(from.ShardIterator);
        if (next && stream) this.streamOf.set(next, stream);
      }
      return out;
    };
  }

  private table(name: string): string {
    return `arn:aws:dynamodb:${this.scope.region}:${this.scope.account}:table/${name}`;
  }

  private kinesisStream(name: string): string {
    return `arn:aws:kinesis:${this.scope.region}:${this.scope.account}:stream/${name}`;
  }

  /** An emulator's ARN in the recorder's region and account (DynamoDB Local says `ddblocal:000000000000`). */
  private normalize(arn: string): string {
    const m = /^arn:([^:]+):([^:]+):[^:]*:[^:]*:(.*)$/.exec(arn);
    return m ? `arn:${m[1]}:${m[2]}:${this.scope.region}:${this.scope.account}:${m[3]}` : `?bad-arn ${arn}`;
  }
}

async function bytesOf(body: unknown): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body;
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(c));
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * True when an IAM resource pattern matches an ARN: `*` any run of characters (`/` and `:`
 * included, as IAM matches resource ARNs), `?` any one character, everything else literally.
 *
 * @example
 * ```ts
 * arnMatches('arn:aws:dynamodb:*:*:table/t/stream/*', 'arn:aws:dynamodb:us-east-1:1:table/t/stream/2024'); // true
 * ```
 */
export function arnMatches(pattern: string, arn: string): boolean {
  const re = [...pattern]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${re}$`).test(arn);
}

/** True when some Allow statement of the policy names the action (exactly) and a resource pattern matching the ARN. */
export function allows(policy: PolicyDocument, call: AwsCall): boolean {
  return policy.Statement.some(
    (s) =>
      s.Effect === 'Allow' &&
      s.Action.includes(call.action as never) &&
      s.Resource.some((r) => arnMatches(r, call.resource)),
  );
}

/** Each (action, resource pattern) of the policy that none of the calls used. */
export function unused(policy: PolicyDocument, calls: readonly AwsCall[]): string[] {
  const out: string[] = [];
  for (const s of policy.Statement)
    for (const action of s.Action)
      for (const r of s.Resource)
        if (!calls.some((c) => c.action === action && arnMatches(r, c.resource))) out.push(`${action} ${r}`);
  return out.sort();
}
