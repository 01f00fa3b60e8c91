import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:http';
import type { Clients } from '../core/clients.js';
import { TributaryError } from '../core/errors.js';
import { tagCallTargets } from './call-target.js';

/** Where to reach the services. Unset fields use the SDK's defaults (real AWS, default credential chain). */
export interface ClientConfig {
  readonly region?: string;
  /** DynamoDB and DynamoDB Streams endpoint override (e.g. DynamoDB Local). */
  readonly dynamodbEndpoint?: string;
  /** Kinesis endpoint override (e.g. kinesis-mock's plain HTTP port). */
  readonly kinesisEndpoint?: string;
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * Builds the clients an app uses. Endpoint overrides come from the arguments, then from
 * `TRIBUTARY_DYNAMODB_ENDPOINT` / `TRIBUTARY_KINESIS_ENDPOINT`. Credentials always come from the
 * default provider chain, except against local endpoints, which accept any. The region comes
 * from the argument, then `AWS_REGION` / `AWS_DEFAULT_REGION`; without one, and without an
 * endpoint override (local emulators accept any region), it throws `config.noRegion` rather than
 * silently talking to us-east-1. Errors the clients throw say which service and endpoint failed
 * (see `callTargetOf`).
 *
 * @example
 * ```ts
 * const clients = createClients({ dynamodbEndpoint: 'http://127.0.0.1:8000' });
 * ```
 */
export function createClients(cfg: ClientConfig = {}): Clients {
  const ddbEndpoint = cfg.dynamodbEndpoint ?? process.env.TRIBUTARY_DYNAMODB_ENDPOINT;
  const kinEndpoint = cfg.kinesisEndpoint ?? process.env.TRIBUTARY_KINESIS_ENDPOINT;
  const region = cfg.region ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION);
  if (!region && !ddbEndpoint && !kinEndpoint)
    throw new TributaryError(
      'config.noRegion',
      'no AWS region: set AWS_REGION (e.g. AWS_REGION=eu-west-1), or point TRIBUTARY_DYNAMODB_ENDPOINT / TRIBUTARY_KINESIS_ENDPOINT at local emulators',
      { details: { variable: 'AWS_REGION' } },
    );
  const local = (e?: string) => (e && /^http:\/\/(127\.|localhost)/.test(e) ? { credentials: LOCAL_CREDENTIALS } : {});
  // An overridden endpoint gets plain HTTP/1.1 with keep-alive: the v3 Kinesis client speaks HTTP/2
  // by default, which a plain endpoint (kinesis-mock's) does not.
  const connection = (endpoint: string | undefined) => ({
    // Emulators accept any region; one is still needed to sign requests.
    region: region || 'us-east-1',
    endpoint,
    ...local(endpoint),
    requestHandler: endpoint
      ? new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }), requestTimeout: 30_000 })
      : undefined,
  });
  const clients = {
    dynamodb: new DynamoDBClient(connection(ddbEndpoint)),
    dynamodbData: new DynamoDBClient({ ...connection(ddbEndpoint), maxAttempts: 1 }),
    streams: new DynamoDBStreamsClient(connection(ddbEndpoint)),
    kinesis: new KinesisClient(connection(kinEndpoint)),
  };
  // The SDK's logger middleware deep-copies every response for a logger tributary never sets:
  // half the CPU of a stream drain. Logging is ours (structured, without payloads).
  for (const c of [clients.dynamodb, clients.dynamodbData, clients.streams, clients.kinesis])
    c.middlewareStack.remove('loggerMiddleware');
  tagCallTargets(clients);
  return clients;
}

/** Closes the clients' sockets. */
export function destroyClients(c: Clients): void {
  c.dynamodb.destroy();
  c.dynamodbData?.destroy();
  c.streams.destroy();
  c.kinesis.destroy();
}
