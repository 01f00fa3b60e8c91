import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { map } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { app, kinesisStream, pipeline, Runner, type Sink } from '../../src/index.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { LeaseTable } from '../../src/runtime/leases/table.js';
import { createStream } from '../../src/testing/tables.js';
import { eventually, fastRunner, testClients, unique } from '../helpers.js';

describe('several workers of one app', () => {
  const clients = testClients();
  afterAll(() => destroyClients(clients));

  it('share the shards evenly, and a stopped worker hands its shards to the other', async () => {
    const stream = unique('shared');
    await createStream(clients.kinesis, stream, 4);
    const seen = new Map<string, number>();
    const counting = (worker: string): Sink<number> => ({
      name: `count-${worker}`,
      async write(outs) {
        for (const n of outs) seen.set(`${n}`, (seen.get(`${n}`) ?? 0) + 1);
      },
    });
    const appName = unique('workers');
    const mk = (worker: string) =>
      app(appName, [
        pipeline('count')
          .from(kinesisStream<{ n: number }>(stream))
          .pipe(map((r) => r.value.n))
          .to(counting(worker)),
      ]);
    const a = new Runner(mk('a'), { ...fastRunner, clients, workerId: 'worker-a' });
    const b = new Runner(mk('b'), { ...fastRunner, clients, workerId: 'worker-b' });
    await Promise.all([a.start(), b.start()]);

    const leases = new LeaseTable(clients.dynamodb, `${appName}_leases`);
    const owners = async () => (await leases.list()).map((l) => l.owner);
    await eventually(
      async () => {
        const o = await owners();
        return (
          o.length === 4 &&
          o.filter((x) => x === 'worker-a').length === 2 &&
          o.filter((x) => x === 'worker-b').length === 2
        );
      },
      60_000,
      'two leases each',
    );

    const put = async (from: number, to: number) => {
      const recs = [];
      for (let n = from; n < to; n++)
        recs.push({ PartitionKey: `pk-${n}`, Data: new TextEncoder().encode(JSON.stringify({ n })) });
      for (let i = 0; i < recs.length; i += 500)
        await clients.kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: recs.slice(i, i + 500) }));
    };
    await put(0, 1000);
    await eventually(async () => seen.size === 1000, 60_000, 'first thousand');

    await a.stop();
    await eventually(
      async () => (await owners()).every((o) => o === 'worker-b'),
      60_000,
      'worker b to hold every lease',
    );
    await put(1000, 2000);
    await eventually(async () => seen.size === 2000, 60_000, 'second thousand');
    await b.stop();
    // Balancing hands leases over after a checkpoint instead of stealing them: nothing lost, nothing applied twice.
    expect(
      (await a.metrics.sum('tributary_leases_lost_total')) + (await b.metrics.sum('tributary_leases_lost_total')),
    ).toBe(0);
    expect([...seen.entries()].filter(([, c]) => c !== 1)).toEqual([]);
  });
});
