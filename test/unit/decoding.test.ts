import { createHash } from 'node:crypto';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  aggregate,
  bytes,
  deaggregate,
  isAggregated,
  json,
  rawText,
  standardSchema,
  text,
} from '../../src/sources/decoding/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const NOT_UTF8 = Uint8Array.of(0x7b, 0xff, 0x7d);

describe('json / text / bytes', () => {
  it('decodes valid JSON synchronously', () => {
    expect(json().decode(enc('{"a":[1,2]}'))).toEqual({ ok: true, value: { a: [1, 2] } });
  });

  it('reports invalid JSON as decode.json with the parser message', () => {
    const r = json().decode(enc('{"a":'));
    expect(r).toMatchObject({ ok: false, code: 'decode.json' });
    expect(r).toHaveProperty('reason', expect.stringMatching(/JSON/));
  });

  it('reports invalid UTF-8 as decode.binary', () => {
    expect(json().decode(NOT_UTF8)).toMatchObject({ ok: false, code: 'decode.binary' });
    expect(text().decode(NOT_UTF8)).toMatchObject({ ok: false, code: 'decode.binary' });
    expect(text().decode(enc('héllo'))).toEqual({ ok: true, value: 'héllo' });
    expect(bytes().decode(NOT_UTF8)).toEqual({ ok: true, value: NOT_UTF8 });
  });

  const Order = z.object({ id: z.string(), items: z.array(z.object({ qty: z.number() })) });

  it('validates with a zod schema (pass)', async () => {
    const r = await json(Order).decode(enc('{"id":"o1","items":[{"qty":2}],"extra":true}'));
    expect(r).toEqual({ ok: true, value: { id: 'o1', items: [{ qty: 2 }] } });
  });

  it('validates with a zod schema (fail) listing each issue as path: message', async () => {
    const r = await standardSchema(Order).decode(enc('{"id":7,"items":[{"qty":"x"}]}'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe('decode.schema');
    expect(r.reason).toMatch(/^id: .+; items\.0\.qty: .+$/);
  });

  const evenAsync: StandardSchemaV1<unknown, number> = {
    '~standard': {
      version: 1,
      vendor: 'hand',
      validate: async (v) =>
        typeof v === 'number' && v % 2 === 0
          ? { value: v }
          : { issues: [{ message: 'not even', path: [{ key: 'n' }, 0] }] },
    },
  };

  it('supports an async standard schema', async () => {
    const ok = json(evenAsync).decode(enc('4'));
    expect(ok).toBeInstanceOf(Promise);
    expect(await ok).toEqual({ ok: true, value: 4 });
    expect(await json(evenAsync).decode(enc('3'))).toEqual({
      ok: false,
      code: 'decode.schema',
      reason: 'n.0: not even',
    });
  });

  it('decodes ASCII, multi-byte UTF-8, a leading BOM and a view into a larger buffer alike', () => {
    expect(text().decode(enc('plain ascii'))).toEqual({ ok: true, value: 'plain ascii' });
    expect(text().decode(enc('café ✓ 𝄞'))).toEqual({ ok: true, value: 'café ✓ 𝄞' });
    expect(text().decode(enc('\ufeff{"a":"é"}'))).toEqual({ ok: true, value: '{"a":"é"}' });
    expect(json().decode(enc('{"city":"Zürich"}'))).toEqual({ ok: true, value: { city: 'Zürich' } });
    const outer = enc('xx{"a":1}yy');
    const view = new Uint8Array(outer.buffer, outer.byteOffset + 2, 7);
    expect(json().decode(view)).toEqual({ ok: true, value: { a: 1 } });
    // A truncated multi-byte sequence and a lone continuation byte are not UTF-8.
    expect(text().decode(enc('é').subarray(0, 1))).toMatchObject({ ok: false, code: 'decode.binary' });
    expect(text().decode(Uint8Array.of(0x61, 0x80))).toMatchObject({ ok: false, code: 'decode.binary' });
  });

  it('rawText gives text or base64', () => {
    expect(rawText(enc('{"a":1}'))).toBe('{"a":1}');
    expect(rawText(Uint8Array.of(0xff, 0xfe))).toBe('base64://4=');
  });
});

describe('KPL aggregation', () => {
  const users = [
    { data: enc('{"n":0}'), partitionKey: 'pk-a' },
    { data: enc('{"n":1}'), partitionKey: 'pk-b' },
    { data: enc('{"n":2}'), partitionKey: 'pk-c' },
  ];
  const raw = (data: Uint8Array) => ({
    data,
    partitionKey: 'outer',
    sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
  });

  it('round-trips 3 records with sub-sequence numbers 0..2', async () => {
    const data = await aggregate(users);
    expect(isAggregated(data)).toBe(true);
    const r = await deaggregate(raw(data));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.records.map((u) => [u.subSequenceNumber, u.partitionKey, dec(u.data)])).toEqual([
      [0, 'pk-a', '{"n":0}'],
      [1, 'pk-b', '{"n":1}'],
      [2, 'pk-c', '{"n":2}'],
    ]);
    expect(r.records[0]).not.toHaveProperty('explicitHashKey');
  });

  it('reports a corrupted body as decode.aggregation', async () => {
    const data = Uint8Array.from(await aggregate(users));
    data[10] ^= 0xff;
    const r = await deaggregate(raw(data));
    expect(r).toMatchObject({ ok: false, code: 'decode.aggregation' });
    expect(r).toHaveProperty('reason', expect.stringMatching(/checksum/i));
  });

  it('reports a truncated aggregate as decode.aggregation', async () => {
    const data = await aggregate(users);
    expect(await deaggregate(raw(data.subarray(0, 12)))).toMatchObject({ ok: false, code: 'decode.aggregation' });
    expect(await deaggregate(raw(data.subarray(0, 30)))).toMatchObject({ ok: false, code: 'decode.aggregation' });
  });

  const withChecksum = (body: number[]): Uint8Array => {
    const b = Uint8Array.from(body);
    return Uint8Array.from([0xf3, 0x89, 0x9a, 0xc2, ...b, ...createHash('md5').update(b).digest()]);
  };

  it('reports a well-formed aggregate with a partition key index outside the table', async () => {
    // partition_key_table: ['a']; records: [{ partition_key_index: 5, data: 'x' }]
    const data = withChecksum([0x0a, 0x01, 0x61, 0x1a, 0x05, 0x08, 0x05, 0x1a, 0x01, 0x78]);
    const r = await deaggregate(raw(data));
    expect(r).toMatchObject({ ok: false, code: 'decode.aggregation' });
    expect(r).toHaveProperty('reason', expect.stringMatching(/partition key index/));
  });

  it('reports an aggregate with no user records', async () => {
    expect(await deaggregate(raw(withChecksum([])))).toMatchObject({ ok: false, code: 'decode.aggregation' });
  });

  it('keeps explicit hash keys', async () => {
    const r = await deaggregate(raw(await aggregate([{ data: enc('x'), partitionKey: 'p', explicitHashKey: '42' }])));
    expect(r).toMatchObject({
      ok: true,
      records: [{ partitionKey: 'p', explicitHashKey: '42', subSequenceNumber: 0 }],
    });
  });

  it('passes a plain record through as sub-sequence 0', async () => {
    const data = enc('{"plain":true}');
    expect(isAggregated(data)).toBe(false);
    const r = await deaggregate({ ...raw(data), explicitHashKey: '7' });
    expect(r).toEqual({
      ok: true,
      records: [{ data, partitionKey: 'outer', explicitHashKey: '7', subSequenceNumber: 0 }],
    });
  });

  it('rejects aggregating nothing', async () => {
    await expect(aggregate([])).rejects.toThrow(/no records/);
  });
});
