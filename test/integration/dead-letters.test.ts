import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { map } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { app, json, kinesisStream, pipeline, put, Runner, tableWriter } from '../../src/index.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { createStream, createTable, scanAll } from '../../src/testing/tables.js';
import { eventually, fastRunner, testClients, unique } from '../helpers.js';

const Click = z.object({ id: z.number().int(), page: z.string().min(1), poison: z.boolean().optional() });
type Click = z.infer<typeof Click>;

interface Letter {
  pipeline: string;
  stage: string;
  code: string;
  message: string;
  record: string;
  position: { sequenceNumber: string };
}

describe('dead letters', () => {
  const clients = testClients();
  afterAll(() => destroyClients(clients));

  it('isolates poison records, undecodable data and schema violations; every other record is applied', async () => {
    const stream = unique('clicks');
    const out = unique('clicks_out');
    await createStream(clients.kinesis, stream, 1);
    await createTable(clients.dynamodb, { name: out, partitionKey: { name: 'id', type: 'N' } });
    const def = app(unique('dl'), [
      pipeline('clicks')
        .from(kinesisStream(stream, { decode: json(Click) }))
        .pipe(
          map((r) => {
            if (r.value.poison) throw new Error(`poison click ${r.value.id}`);
            return put({ id: r.value.id, page: r.value.page });
          }),
        )
        .to(tableWriter(out)),
    ]);

    const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
    const payloads: Uint8Array[] = [];
    const good: number[] = [];
    for (let i = 0; i < 200; i++) {
      if (i === 17) payloads.push(enc('{not json'));
      else if (i === 42) payloads.push(new Uint8Array([0xff, 0xfe, 0x00, 0x81]));
      else if (i === 99) payloads.push(enc({ id: i, page: '' }));
      else if (i === 123 || i === 124) payloads.push(enc({ id: i, page: 'p', poison: true }));
      else {
        payloads.push(enc({ id: i, page: `p${i % 7}` }));
        good.push(i);
      }
    }
    // One PutRecords call: all of them land in the same few batches.
    await clients.kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: payloads.map((Data, i) => ({ Data, PartitionKey: `k${i % 5}` })),
      }),
    );

    const runner = new Runner(def, { ...fastRunner, clients });
    await runner.start();
    await eventually(
      async () => (await scanAll(clients.dynamodb, out)).length === good.length,
      30_000,
      'good records applied',
    );
    await eventually(
      async () => (await scanAll(clients.dynamodb, def.deadLetters.tableName)).length === 5,
      10_000,
      'dead letters',
    );
    await runner.stop();

    const rows = await scanAll<{ id: number }>(clients.dynamodb, out);
    expect(rows.map((r) => r.id).sort((a, b) => a - b)).toEqual(good);
    const letters = (await scanAll<Letter>(clients.dynamodb, def.deadLetters.tableName)).sort((a, b) =>
      a.position.sequenceNumber.localeCompare(b.position.sequenceNumber),
    );
    expect(letters.map((l) => [l.stage, l.code])).toEqual([
      ['decode', 'decode.json'],
      ['decode', 'decode.binary'],
      ['decode', 'decode.schema'],
      ['pipeline', 'Error'],
      ['pipeline', 'Error'],
    ]);
    expect(letters[0]!.record).toBe('{not json');
    expect(letters[2]!.message).toMatch(/page/);
    expect(letters[3]!.message).toBe('poison click 123');
    expect(letters[3]!.pipeline).toBe('clicks');
    expect(letters[0]!.pipeline).toBe(`source:${stream}`);

    // Records in = applied + dead letters, per pipeline and for the source's decoder.
    const m = runner.metrics;
    expect(await m.sum('tributary_records_in_total', { pipeline: 'clicks' })).toBe(197);
    expect(await m.sum('tributary_records_applied_total', { pipeline: 'clicks' })).toBe(195);
    expect(await m.sum('tributary_dead_letters_total', { pipeline: 'clicks' })).toBe(2);
    expect(await m.sum('tributary_dead_letters_total', { pipeline: `source:${stream}` })).toBe(3);
  });

  it.each([
    {
      what: 'an item too large for DynamoDB',
      values: [1, 2, 3].map((id) => ({ id, size: id === 2 ? 500_000 : 10 })),
      code: 'sink.itemTooLarge',
      message: /400 KB/,
    },
    {
      what: "a put whose key breaks the table's key rules",
      values: [{ id: 1 }, { id: '2' }, { id: 3 }],
      code: 'sink.invalidItem',
      message: /key attribute 'id' is a string but the table declares it as N/,
    },
  ])('sends $what to the dead letters with the reason; the other records are applied', async (c) => {
    const stream = unique('bad');
    const out = unique('bad_out');
    await createStream(clients.kinesis, stream, 1);
    await createTable(clients.dynamodb, { name: out, partitionKey: { name: 'id', type: 'N' } });
    const def = app(unique('dl_bad'), [
      pipeline('bad')
        .from(kinesisStream<{ id: number | string; size?: number }>(stream))
        .pipe(map((r) => put({ id: r.value.id, blob: 'x'.repeat(r.value.size ?? 1) })))
        .to(tableWriter(out)),
    ]);
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    await clients.kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: c.values.map((v) => ({ PartitionKey: 'k', Data: enc(v) })),
      }),
    );
    const runner = new Runner(def, { ...fastRunner, clients });
    await runner.start();
    await eventually(
      async () => (await scanAll(clients.dynamodb, def.deadLetters.tableName)).length === 1,
      30_000,
      'dead letter',
    );
    await eventually(async () => (await scanAll(clients.dynamodb, out)).length === 2, 10_000, 'other records');
    await runner.stop();
    const [letter] = await scanAll<Letter>(clients.dynamodb, def.deadLetters.tableName);
    expect(letter!.stage).toBe('sink');
    expect(letter!.code).toBe(c.code);
    expect(letter!.message).toMatch(c.message);
  });
});
