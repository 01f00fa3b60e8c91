import { ListShardsCommand, PutRecordsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { map } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { app, kinesisStream, pipeline, Runner, type Sink } from '../../src/index.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { createStream, waitStreamActive } from '../../src/testing/tables.js';
import { eventually, fastRunner, testClients, unique } from '../helpers.js';

interface Event {
  key: string;
  n: number;
}

/** A sink that records the order in which events are applied. */
function recordingSink(applied: Event[]): Sink<Event> {
  return {
    name: 'recording',
    async write(outputs) {
      await new Promise((r) => setTimeout(r, 5));
      applied.push(...outputs);
    },
  };
}

describe('Kinesis shard split', () => {
  const clients = testClients();
  afterAll(() => destroyClients(clients));

  it('applies every partition key in writing order across the parent and its children', async () => {
    const stream = unique('split');
    await createStream(clients.kinesis, stream, 1);
    const keys = Array.from({ length: 24 }, (_, i) => `key-${i}`);
    const next = new Map(keys.map((k) => [k, 0]));
    const writeRound = async (perKey: number) => {
      const records = [];
      for (let r = 0; r < perKey; r++) {
        for (const key of keys) {
          const n = next.get(key)!;
          next.set(key, n + 1);
          records.push({ PartitionKey: key, Data: new TextEncoder().encode(JSON.stringify({ key, n })) });
        }
      }
      for (let i = 0; i < records.length; i += 500)
        await clients.kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: records.slice(i, i + 500) }));
    };

    const applied: Event[] = [];
    const def = app(unique('split_app'), [
      pipeline('order')
        .from(kinesisStream<Event>(stream, { batchSize: 50 }))
        .pipe(map((r) => r.value))
        .to(recordingSink(applied)),
    ]);
    await writeRound(20);
    const runner = new Runner(def, { ...fastRunner, clients });
    await runner.start();
    await eventually(async () => applied.length > 0, 60_000, 'first records');

    // Split while the parent still has a backlog, then keep writing: these land in the children.
    const [parent] = (await clients.kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
    const mid = (BigInt(parent!.HashKeyRange!.StartingHashKey!) + BigInt(parent!.HashKeyRange!.EndingHashKey!)) / 2n;
    await clients.kinesis.send(
      new SplitShardCommand({ StreamName: stream, ShardToSplit: parent!.ShardId!, NewStartingHashKey: mid.toString() }),
    );
    await waitStreamActive(clients.kinesis, stream);
    await writeRound(20);

    const total = keys.length * 40;
    await eventually(async () => applied.length >= total, 60_000, 'all records applied');
    await runner.stop();

    const shards = (await clients.kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
    expect(shards.length).toBe(3);
    expect(applied.length).toBe(total);
    for (const key of keys) {
      const seen = applied.filter((e) => e.key === key).map((e) => e.n);
      expect(seen, key).toEqual(Array.from({ length: 40 }, (_, i) => i));
    }
  });
});
