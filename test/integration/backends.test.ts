import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  app,
  counterView,
  createClients,
  destroyClients,
  dynamodbTable,
  kinesisStream,
  pipeline,
  Runner,
} from '../../src/index.js';
import type { Clients } from '../../src/core/clients.js';
import {
  createStream,
  createTable,
  dockerAvailable,
  scanAll,
  startEmulators,
  type Emulators,
  type Endpoints,
} from '../../src/testing/index.js';
import { isTributaryError } from '../../src/core/errors.js';
import { eventually, fastRunner, unique } from '../helpers.js';
import { inject } from 'vitest';

// One test body, run on every backend this machine has: the local emulators always, LocalStack
// (through testcontainers) where a Docker engine answers.
const docker = await dockerAvailable();
const backends = docker.ok ? (['local', 'localstack'] as const) : (['local'] as const);
if (!docker.ok) console.info(`LocalStack backend skipped: ${docker.reason}; running on the local emulators only`);

describe.each(backends)('an app on the %s backend', (backend) => {
  let emulators: Emulators | undefined;
  let clients: Clients;
  beforeAll(async () => {
    let endpoints: Endpoints = inject('endpoints');
    if (backend === 'localstack') endpoints = (emulators = await startEmulators({ backend })).endpoints;
    clients = createClients({
      region: 'us-east-1',
      dynamodbEndpoint: endpoints.dynamodb,
      kinesisEndpoint: endpoints.kinesis,
    });
  }, 300_000);
  afterAll(async () => {
    destroyClients(clients);
    await emulators?.stop();
  });

  it('counts a table stream and a Kinesis stream into counter views', async () => {
    const names = { items: unique('be_items'), stream: unique('be_clicks'), counts: unique('be_counts') };
    await createTable(clients.dynamodb, {
      name: names.items,
      partitionKey: { name: 'id', type: 'S' },
      stream: 'NEW_AND_OLD_IMAGES',
    });
    await createTable(clients.dynamodb, { name: names.counts, partitionKey: { name: 'key', type: 'S' } });
    await createStream(clients.kinesis, names.stream, 2);
    const def = app(unique('be_app'), [
      pipeline('items')
        .from(dynamodbTable<{ id: string; kind: string }>(names.items))
        .to(
          counterView({
            table: names.counts,
            partitionKey: 'key',
            key: (c) => ({ key: `item:${c.newImage?.kind ?? '-'}` }),
            add: { n: 1 },
          }),
        ),
      pipeline('clicks')
        .from(kinesisStream<{ page: string }>(names.stream))
        .to(
          counterView({
            table: names.counts,
            partitionKey: 'key',
            key: (r) => ({ key: `page:${r.value.page}` }),
            add: { n: 1 },
          }),
        ),
    ]);
    const runner = new Runner(def, { ...fastRunner, clients });
    await runner.start();
    try {
      for (let i = 0; i < 40; i++)
        await clients.dynamodb.send(
          new PutItemCommand({ TableName: names.items, Item: marshall({ id: `i${i}`, kind: i % 2 ? 'odd' : 'even' }) }),
        );
      await clients.kinesis.send(
        new PutRecordsCommand({
          StreamName: names.stream,
          Records: Array.from({ length: 60 }, (_, i) => ({
            PartitionKey: `k${i}`,
            Data: Buffer.from(JSON.stringify({ page: `/p${i % 3}` })),
          })),
        }),
      );
      const want = { 'item:even': 20, 'item:odd': 20, 'page:/p0': 20, 'page:/p1': 20, 'page:/p2': 20 };
      const held = async () =>
        Object.fromEntries(
          (await scanAll(clients.dynamodb, names.counts))
            .map((r) => [String(r.key), Number(r.n)] as const)
            .sort(([a], [b]) => a.localeCompare(b)),
        );
      await eventually(async () => JSON.stringify(await held()) === JSON.stringify(want), 90_000, 'the counts').catch(
        async (e: unknown) => {
          throw new Error(`${String(e)}: held ${JSON.stringify(await held())}`);
        },
      );
      expect(await held()).toEqual(want);
    } finally {
      await runner.stop();
    }
  }, 180_000);
});

describe.skipIf(docker.ok)('the LocalStack backend without Docker', () => {
  it('says clearly that no Docker engine answers', async () => {
    const e: unknown = await startEmulators({ backend: 'localstack' }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isTributaryError(e, 'testing.dockerMissing')).toBe(true);
    expect((e as Error).message).toMatch(/no Docker engine answers.*use the local emulators/);
  });
});
