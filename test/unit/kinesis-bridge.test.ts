import { describe, expect, it } from 'vitest';
import type { DynamoChange, KinesisDynamoChange } from '../../src/core/records.js';
import { keyedChunks, putRecordsChunks } from '../../src/sinks/kinesis-bridge/batches.js';
import { bridgeEntry, bridgeRecord, itemPartitionKey } from '../../src/sinks/kinesis-bridge/record.js';
import { kinesisDynamoChanges } from '../../src/sources/decoding/kinesis-dynamodb.js';

interface Doc {
  id: string;
  n: number;
  tags: Set<string>;
  blob: Uint8Array;
  nested: { list: (string | number | null)[]; flag: boolean };
}

const doc: Doc = {
  id: 'd1',
  n: 1.5,
  tags: new Set(['a', 'b']),
  blob: Uint8Array.of(0, 255, 7),
  nested: { list: ['x', 2, null], flag: true },
};
const change: DynamoChange<Doc> = {
  type: 'dynamodb',
  kind: 'modify',
  keys: { id: 'd1' },
  oldImage: { ...doc, n: 1 },
  newImage: doc,
  ttlExpired: false,
  approximateCreationTime: new Date(1_700_000_000_000),
  eventId: 'ev-1',
  position: { source: 'docs', shardId: 'shard-1', sequenceNumber: '000000000000000000123' },
  sizeBytes: 321,
};

describe('Kinesis bridge records', () => {
  it('have the shape of Kinesis Data Streams for DynamoDB records, images in DynamoDB JSON', () => {
    const r = bridgeRecord(change, { tableName: 'docs', region: 'eu-west-1' });
    expect(r).toMatchObject({
      awsRegion: 'eu-west-1',
      eventID: 'ev-1',
      eventName: 'MODIFY',
      userIdentity: null,
      recordFormat: 'application/json',
      tableName: 'docs',
      eventSource: 'aws:dynamodb',
    });
    expect(r.dynamodb.ApproximateCreationDateTime).toBe(1_700_000_000_000);
    expect(r.dynamodb.Keys).toEqual({ id: { S: 'd1' } });
    expect(r.dynamodb.SizeBytes).toBe(321);
    expect(r.dynamodb.SequenceNumber).toBe('000000000000000000123');
    const parsed = JSON.parse(JSON.stringify(r)) as typeof r;
    expect(parsed.dynamodb.NewImage).toMatchObject({
      blob: { B: 'AP8H' },
      n: { N: '1.5' },
      tags: { SS: ['a', 'b'] },
      nested: { M: { flag: { BOOL: true } } },
    });
  });

  it('decode back to the same change with kinesisDynamoChanges()', async () => {
    const { data } = bridgeEntry(change, { tableName: 'docs', region: 'eu-west-1' });
    const res = await kinesisDynamoChanges<Doc>().decode(data);
    expect(res.ok).toBe(true);
    const v = (res as { value: KinesisDynamoChange<Doc> }).value;
    expect(v).toMatchObject({
      type: 'kinesis-dynamodb',
      kind: 'modify',
      keys: { id: 'd1' },
      ttlExpired: false,
      eventId: 'ev-1',
      tableName: 'docs',
      sequenceNumber: '000000000000000000123',
      sizeBytes: 321,
    });
    expect(v.newImage).toEqual(doc);
    expect(v.oldImage).toEqual({ ...doc, n: 1 });
    expect(v.approximateCreationTime.getTime()).toBe(1_700_000_000_000);
    expect(v.approximateCreationMicros).toBe(1_700_000_000_000_000);
  });

  it('marks TTL removals with the service identity, as DynamoDB does', async () => {
    const ttl: DynamoChange<Doc> = { ...change, kind: 'remove', newImage: undefined, ttlExpired: true };
    const r = bridgeRecord(ttl, { tableName: 'docs', region: 'r' });
    expect(r.userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
    expect(r.dynamodb.NewImage).toBeUndefined();
    const res = await kinesisDynamoChanges<Doc>().decode(bridgeEntry(ttl, { tableName: 'docs', region: 'r' }).data);
    expect(res.ok && res.value.ttlExpired).toBe(true);
  });

  it('decodes native records without a sequence number, in milliseconds or microseconds', async () => {
    const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    const base = {
      awsRegion: 'r',
      eventID: 'e',
      eventName: 'INSERT',
      userIdentity: null,
      recordFormat: 'application/json',
      tableName: 't',
      eventSource: 'aws:dynamodb',
    };
    const ms = await kinesisDynamoChanges().decode(
      enc({
        ...base,
        dynamodb: {
          ApproximateCreationDateTime: 1_649_930_048_474,
          Keys: { k: { S: 'a' } },
          NewImage: { k: { S: 'a' } },
          SizeBytes: 10,
        },
      }),
    );
    expect(ms.ok && [ms.value.approximateCreationMicros, ms.value.sequenceNumber]).toEqual([
      1_649_930_048_474_000,
      undefined,
    ]);
    const us = await kinesisDynamoChanges().decode(
      enc({
        ...base,
        dynamodb: { ApproximateCreationDateTime: 1_649_930_048_474_123, Keys: { k: { S: 'a' } }, SizeBytes: 10 },
      }),
    );
    expect(us.ok && [us.value.approximateCreationMicros, us.value.approximateCreationTime.getTime()]).toEqual([
      1_649_930_048_474_123, 1_649_930_048_474,
    ]);
  });

  it('rejects malformed records with a reason naming the field', async () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    const dec = kinesisDynamoChanges();
    expect(await dec.decode(enc('{'))).toMatchObject({ ok: false, code: 'decode.json' });
    expect(await dec.decode(enc('{"eventName":"UPSERT","dynamodb":{"Keys":{}}}'))).toMatchObject({
      ok: false,
      code: 'decode.schema',
      reason: expect.stringMatching(/eventName/),
    });
    expect(await dec.decode(enc('{"eventName":"INSERT","dynamodb":{"Keys":{"k":{"X":"1"}}}}'))).toMatchObject({
      ok: false,
      code: 'decode.schema',
      reason: expect.stringMatching(/dynamodb\.Keys\.k: unknown attribute type 'X'/),
    });
    expect(await dec.decode(enc('{"eventName":"INSERT","dynamodb":{"Keys":{"k":{"N":"abc"}}}}'))).toMatchObject({
      ok: false,
      code: 'decode.schema',
    });
  });

  it('partition keys: one per item key, whatever the attribute order, within Kinesis limits', () => {
    expect(itemPartitionKey({ a: '1', b: 2 })).toBe(itemPartitionKey({ b: 2, a: '1' }));
    expect(itemPartitionKey({ a: '1', b: 2 })).not.toBe(itemPartitionKey({ a: '1', b: 3 }));
    expect(itemPartitionKey({ a: 'x'.repeat(2000) })).toMatch(/^[0-9A-F]{32}$/);
  });

  it('PutRecords chunks hold at most 500 records and 5 MiB, in order', () => {
    const entry = (i: number, size: number) => ({ data: new Uint8Array(size), partitionKey: `k${i}` });
    const many = Array.from({ length: 1201 }, (_, i) => entry(i, 10));
    expect(putRecordsChunks(many).map((c) => c.length)).toEqual([500, 500, 201]);
    expect(putRecordsChunks(many).flat()).toEqual(many);
    const big = Array.from({ length: 12 }, (_, i) => entry(i, 1_000_000));
    const chunks = putRecordsChunks(big);
    expect(chunks.map((c) => c.length)).toEqual([5, 5, 2]);
  });

  it('chunks sent at once keep every change of a key in one call, in order, within the limits', () => {
    const entry = (key: number, seq: number) => ({ data: new Uint8Array(10), partitionKey: `k${key}`, seq });
    const entries = Array.from({ length: 1200 }, (_, i) => entry(i % 300, i));
    const chunks = keyedChunks(entries)!;
    expect(chunks.every((c) => c.length <= 500)).toBe(true);
    expect(chunks.flat().length).toBe(1200);
    for (let k = 0; k < 300; k++) {
      const holding = chunks.filter((c) => c.some((e) => e.partitionKey === `k${k}`));
      expect(holding.length).toBe(1);
      const seqs = holding[0]!.filter((e) => e.partitionKey === `k${k}`).map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    // One item changed 501 times cannot fit one call: the caller sends chunks in order instead.
    expect(keyedChunks(Array.from({ length: 501 }, (_, i) => entry(0, i)))).toBeUndefined();
  });
});
