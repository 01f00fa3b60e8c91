import { createHash } from 'node:crypto';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { map } from 'rxjs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { app, json, kinesisStream, pipeline, put, Runner, tableWriter } from '../../src/index.js';
import { createClients, destroyClients } from '../../src/runtime/clients.js';
import { memorySource } from '../../src/testing/memory-source.js';
import { startThrottleProxy } from '../../src/testing/throttle-proxy/index.js';
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
  truncated?: boolean;
  recordBytes?: number;
  recordSha256?: string;
  minimal?: boolean;
  entryError?: string;
}

/** A sink that counts how many times each id reaches it, so a record applied twice shows. */
function countingSink(counts: Map<number, number>) {
  return {
    name: 'counting',
    write: async (ids: readonly number[]) => {
      for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    },
  };
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
      60_000,
      'good records applied',
    );
    await eventually(
      async () => (await scanAll(clients.dynamodb, def.deadLetters.tableName)).length === 5,
      60_000,
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
      60_000,
      'dead letter',
    );
    await eventually(async () => (await scanAll(clients.dynamodb, out)).length === 2, 60_000, 'other records');
    await runner.stop();
    const [letter] = await scanAll<Letter>(clients.dynamodb, def.deadLetters.tableName);
    expect(letter!.stage).toBe('sink');
    expect(letter!.code).toBe(c.code);
    expect(letter!.message).toMatch(c.message);
  });

  // 140,000 emoji: 140,000 UTF-16 pairs, but 560,000 bytes of UTF-8, which is what DynamoDB counts.
  const HUGE = '\u{1F600}'.repeat(140_000);

  /** Sends records (as JSON unless strings) to a new one-shard stream: good ones, and a poison one. */
  async function huge(payloads: readonly unknown[]) {
    const stream = unique('huge');
    await createStream(clients.kinesis, stream, 1);
    const counts = new Map<number, number>();
    const def = app(unique('dl_huge'), [
      pipeline('huge')
        .from(kinesisStream<{ id: number; text?: string }>(stream))
        .pipe(
          map((r) => {
            if (r.value.text !== undefined) throw new Error(`text too long: ${r.value.text.length} chars`);
            return r.value.id;
          }),
        )
        .to(countingSink(counts)),
    ]);
    await clients.kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: payloads.map((p) => ({
          PartitionKey: 'k',
          Data: new TextEncoder().encode(typeof p === 'string' ? p : JSON.stringify(p)),
        })),
      }),
    );
    return { def, counts, stream };
  }

  it('dead-letters a 560 KB (UTF-8) record cut to fit, with its full length and SHA-256; the next record is applied once', async () => {
    const invalid = `{"id": 3, "text": "${HUGE}`; // not JSON: rejected by the decoder, raw payload kept
    const { def, counts, stream } = await huge([{ id: 1 }, { id: 2, text: HUGE }, invalid, { id: 4 }]);
    const runner = new Runner(def, { ...fastRunner, clients });
    await runner.start();
    await eventually(async () => counts.get(4) === 1, 30_000, 'the record after the poison ones applied');
    await eventually(
      async () => (await scanAll(clients.dynamodb, def.deadLetters.tableName)).length === 2,
      10_000,
      'dead letters',
    );
    // Batches after the last one are empty: had a dead-letter write failed, the shard would be retaken and record 4 applied again.
    await eventually(
      async () => (await runner.metrics.sum('tributary_checkpoints_total', { source: stream })) > 0,
      10_000,
      'checkpoint past the poison records',
    );
    await runner.stop();
    expect([...counts]).toEqual([
      [1, 1],
      [4, 1],
    ]);
    const letters = (await scanAll<Letter>(clients.dynamodb, def.deadLetters.tableName)).sort((a, b) =>
      a.position.sequenceNumber.localeCompare(b.position.sequenceNumber),
    );
    expect(letters.map((l) => [l.stage, l.truncated, l.minimal])).toEqual([
      ['pipeline', true, undefined],
      ['decode', true, undefined],
    ]);
    for (const l of letters) {
      expect(Buffer.byteLength(l.record, 'utf8')).toBeLessThan(400 * 1024);
      expect(Buffer.byteLength(l.record, 'utf8')).toBeGreaterThan(300 * 1024);
    }
    // The pipeline's letter holds JSON of the whole source record (payload, position, times).
    expect(letters[0]!.recordBytes).toBeGreaterThan(560_000);
    expect(letters[0]!.recordSha256).toMatch(/^[0-9a-f]{64}$/);
    // The decoder's letter holds the raw payload: its length and hash are the payload's.
    const raw = Buffer.from(invalid, 'utf8');
    expect(letters[1]!.recordBytes).toBe(raw.byteLength);
    expect(letters[1]!.recordSha256).toBe(createHash('sha256').update(raw).digest('hex'));
    expect(invalid.startsWith(letters[1]!.record)).toBe(true);
  });

  it('writes a minimal entry when DynamoDB refuses a dead letter for a reason other than its size; the shard moves on', async () => {
    const { def, counts } = await huge([{ id: 1 }, { id: 2, text: 'short' }, { id: 3 }]);
    // An index on `record` as binary: DynamoDB refuses every entry holding the record as a string
    // (ValidationException, a type mismatch for an index key), but not one without the record.
    await createTable(clients.dynamodb, {
      name: def.deadLetters.tableName,
      partitionKey: { name: 'pipeline', type: 'S' },
      sortKey: { name: 'id', type: 'S' },
      globalSecondaryIndexes: [{ name: 'by_record', partitionKey: { name: 'record', type: 'B' } }],
    });
    const runner = new Runner(def, { ...fastRunner, clients });
    await runner.start();
    await eventually(async () => counts.get(3) === 1, 30_000, 'the record after the refused one applied');
    await eventually(
      async () => (await scanAll(clients.dynamodb, def.deadLetters.tableName)).length === 1,
      10_000,
      'minimal dead letter',
    );
    await runner.stop();
    expect([...counts]).toEqual([
      [1, 1],
      [3, 1],
    ]);
    const [letter] = await scanAll<Letter>(clients.dynamodb, def.deadLetters.tableName);
    expect(letter).toMatchObject({ pipeline: 'huge', code: 'Error', message: 'text too long: 5 chars', minimal: true });
    expect(letter!.entryError).toMatch(/Index Key/);
    expect(letter!.record).toBeUndefined();
    expect(letter!.position.sequenceNumber).toMatch(/^\d+$/);
  });

  it('with maxRetries, sends records whose writes stay throttled to the dead letters as sink.retriesExhausted', async () => {
    const out = unique('throttled_out');
    await createTable(clients.dynamodb, { name: out, partitionKey: { name: 'id', type: 'N' } });
    // A budget of 0 WCU: every write to the table is throttled, for ever.
    const proxy = await startThrottleProxy({ target: inject('endpoints').dynamodb, tables: { [out]: { wcu: 0 } } });
    const viaProxy = createClients({ dynamodbEndpoint: proxy.endpoint, region: 'us-east-1' });
    try {
      const ids = Array.from({ length: 30 }, (_, i) => i);
      const def = app(unique('dl_throttled'), [
        pipeline('throttled')
          .from(memorySource<number>('ids', [{ shardId: 's-0', values: ids }], { batchSize: 10 }))
          .with({ maxRetries: 3 })
          .pipe(map((r) => put({ id: r.value })))
          .to(tableWriter(out)),
      ]);
      const runner = new Runner(def, { ...fastRunner, clients: viaProxy });
      await runner.start();
      const m = runner.metrics;
      await eventually(
        async () => (await m.sum('tributary_dead_letters_total', { pipeline: 'throttled' })) === ids.length,
        60_000,
        'every record dead-lettered',
      );
      expect((await runner.stop()).error).toBeUndefined();
      const letters = await scanAll<Letter>(clients.dynamodb, def.deadLetters.tableName);
      expect(letters).toHaveLength(ids.length);
      for (const l of letters) expect([l.stage, l.code]).toEqual(['sink', 'sink.retriesExhausted']);
      expect(letters[0]!.message).toMatch(/after 4 attempts/);
      expect(proxy.stats(out).throttledRequests).toBeGreaterThan(0);
      // Records in = applied + dead letters.
      expect(await m.sum('tributary_records_in_total', { pipeline: 'throttled' })).toBe(ids.length);
      expect(await m.sum('tributary_records_applied_total', { pipeline: 'throttled' })).toBe(0);
      expect(await scanAll(clients.dynamodb, out)).toEqual([]);
    } finally {
      destroyClients(viaProxy);
      await proxy.stop();
    }
  });
});
