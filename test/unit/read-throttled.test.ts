import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clients } from '../../src/core/clients.js';
import type { StreamSource } from '../../src/core/source.js';
import { silentLogger } from '../../src/observe/log.js';
import { Metrics } from '../../src/observe/metrics.js';
import { sourceEventReporter } from '../../src/runtime/source-events.js';
import { dynamodbTable } from '../../src/sources/dynamodb/source.js';
import { kinesisStream } from '../../src/sources/kinesis/source.js';

/** One scripted answer of the service: an HTTP status and a JSON body. */
interface Answer {
  readonly status: number;
  readonly body: unknown;
}

const ok = (body: unknown): Answer => ({ status: 200, body });
const error = (type: string): Answer => ({ status: 400, body: { __type: type, message: 'Rate exceeded' } });

/**
 * A stand-in for the service's endpoint that answers each operation (by its X-Amz-Target) from a
 * script: DynamoDB Local and kinesis-mock never throttle reads. The clients, their wire protocol
 * and the readers are the real ones.
 */
async function scriptedEndpoint(script: Record<string, Answer[]>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const answer = script[op]?.shift() ?? { status: 500, body: { __type: 'InternalFailure', message: op } };
      res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function clientsFor(endpoint: string): Clients {
  // One attempt per call: each throttled answer reaches the reader, as it does once the SDK's retries are spent.
  const config = {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler(),
  };
  return {
    dynamodb: new DynamoDBClient(config),
    streams: new DynamoDBStreamsClient(config),
    kinesis: new KinesisClient(config),
  };
}

const STREAM_ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2026-01-01T00:00:00.000';

interface Service {
  readonly name: string;
  readonly source: StreamSource;
  /** What the service answers over a shard's read limit. */
  readonly throttle: string;
  /** Answers other than GetRecords: binding the source, getting an iterator. */
  readonly setup: Record<string, Answer[]>;
  /** A GetRecords answer with one record and no next iterator: the shard's end. */
  readonly lastPage: unknown;
}

const services: Service[] = [
  {
    name: 'DynamoDB Streams',
    source: dynamodbTable(STREAM_ARN, { idlePollMs: 50 }),
    throttle: 'com.amazonaws.dynamodb.v20120810#LimitExceededException',
    setup: {
      DescribeStream: [ok({ StreamDescription: { StreamViewType: 'NEW_AND_OLD_IMAGES', TableName: 'orders' } })],
      GetShardIterator: [ok({ ShardIterator: 'it-0' })],
    },
    lastPage: {
      Records: [
        {
          eventID: 'e1',
          eventName: 'INSERT',
          dynamodb: {
            ApproximateCreationDateTime: 1_700_000_000,
            Keys: { id: { S: 'a' } },
            NewImage: { id: { S: 'a' } },
            SequenceNumber: '100',
            SizeBytes: 10,
          },
        },
      ],
    },
  },
  {
    name: 'Kinesis',
    source: kinesisStream('clicks', { idlePollMs: 50 }),
    throttle: 'ProvisionedThroughputExceededException',
    setup: { DescribeStreamSummary: [ok({})], GetShardIterator: [ok({ ShardIterator: 'it-0' })] },
    lastPage: {
      Records: [
        {
          SequenceNumber: '100',
          ApproximateArrivalTimestamp: 1_700_000_000,
          Data: Buffer.from('{"id":"a"}').toString('base64'),
          PartitionKey: 'a',
        },
      ],
      MillisBehindLatest: 0,
    },
  },
];

describe('reading a throttled shard', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it.each(services)('counts each throttled GetRecords of $name in tributary_read_throttled_total', async (s) => {
    const endpoint = await scriptedEndpoint({
      ...s.setup,
      GetRecords: [error(s.throttle), error(s.throttle), ok(s.lastPage)],
    });
    server = endpoint.server;
    const metrics = new Metrics();
    const bound = await s.source.bind({
      clients: clientsFor(endpoint.url),
      tableName: (t) => t,
      onEvent: sourceEventReporter(metrics, silentLogger),
    });
    const reader = await bound.openShard({ shardId: 'shard-1', parentShardIds: [] }, { kind: 'TRIM_HORIZON' });

    const batch = await reader.next(new AbortController().signal);

    expect([batch.records.length, batch.checkpoint, batch.ended]).toEqual([1, { kind: 'SHARD_END' }, true]);
    expect(await metrics.get('tributary_read_throttled_total', { source: s.source.name, shard: 'shard-1' })).toBe(2);
  });
});
