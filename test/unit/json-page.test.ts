import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decodePage, json, parseJsonPage, text } from '../../src/sources/decoding/index.js';
import { memorySource } from '../../src/testing/memory-source.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const page = (...texts: string[]) => texts.map(enc);

describe('parseJsonPage', () => {
  it('parses a page of self-contained values in one go', () => {
    expect(parseJsonPage(page('{"a":1}', '[2,3]', '"s,]"', '4', 'null', ' {"b":"x\\\\"} '))).toEqual([
      { a: 1 },
      [2, 3],
      's,]',
      4,
      null,
      { b: 'x\\' },
    ]);
    expect(parseJsonPage(page('{"city":"Zürich"}', '"✓"'))).toEqual([{ city: 'Zürich' }, '✓']);
    expect(parseJsonPage([])).toEqual([]);
  });

  it('refuses payloads that would reach into their neighbours', () => {
    // Each of these, joined with commas, could parse into the wrong number or wrong split of values.
    expect(parseJsonPage(page('{"a":1},{"b":2}', '{"c":3}'))).toBeUndefined();
    expect(parseJsonPage(page('1,2', '3'))).toBeUndefined();
    expect(parseJsonPage(page('[1', '2]'))).toBeUndefined();
    expect(parseJsonPage(page('"a', 'b"'))).toBeUndefined();
    expect(parseJsonPage(page('"a\\', '"'))).toBeUndefined();
    expect(parseJsonPage(page('1]', '[2'))).toBeUndefined();
    // A payload that splits and a pair that merges keep the count right: `[1,2,[3,4]]` has three
    // elements for three payloads, none of them its own. Still refused.
    expect(parseJsonPage(page('1,2', '[3', '4]'))).toBeUndefined();
    expect(parseJsonPage(page('{"a":1},{"b":2}', '{"c":[{}', '{}]}'))).toBeUndefined();
  });

  it('refuses a page with any bad payload: not JSON, not UTF-8, empty, or two values', () => {
    expect(parseJsonPage(page('{"a":1}', '{not json}'))).toBeUndefined();
    expect(parseJsonPage([enc('1'), Uint8Array.of(0x22, 0xff, 0x22)])).toBeUndefined();
    expect(parseJsonPage(page('1', ''))).toBeUndefined();
    expect(parseJsonPage(page('1', '2 3'))).toBeUndefined();
    expect(parseJsonPage(page('1', '\ufeff2'))).toBeUndefined();
  });
});

describe('decodePage', () => {
  // Every kind of payload a stream may carry, good and bad, in a seeded random order; some bad ones
  // come as runs that would keep the element count of a joined page right.
  const units = [
    ['{"id":1,"tags":["a","b"]}'],
    ['[1,{"x":[2]}]'],
    ['"str, with [brackets]"'],
    ['42'],
    ['{"u":"é✓"}'],
    ['true'],
    ['{"q":"\\"}"}'],
    ['{"a":1},{"b":2}'],
    [''],
    ['{"broken":'],
    ['"unterminated'],
    ['\ufeff{"bom":true}'],
    ['1,2', '[3', '4]'],
    ['{"a":1},{"b":2}', '{"c":[{}', '{}]}'],
  ];
  let seed = 7;
  const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;

  it('gives, payload for payload, what decode gives one at a time', () => {
    for (let round = 0; round < 300; round++) {
      const payloads = Array.from(
        { length: 1 + Math.floor(rand() * 6) },
        () => units[Math.floor(rand() * units.length)]!,
      )
        .flat()
        .map(enc);
      if (round % 5 === 0) payloads.push(Uint8Array.of(0x7b, 0xff, 0x7d));
      const d = json();
      expect(decodePage(d, payloads)).toEqual(payloads.map((p) => d.decode(p)));
    }
  });

  it('validates every value of a page with the schema, and decoders without decodeAll one by one', async () => {
    const d = json(z.object({ id: z.number() }));
    const results = await decodePage(d, page('{"id":1}', '{"id":"x"}', '{"id":3}'));
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(results[1]).toMatchObject({ code: 'decode.schema', reason: expect.stringMatching(/^id: /) });
    expect(decodePage(text(), page('a', 'b'))).toEqual([
      { ok: true, value: 'a' },
      { ok: true, value: 'b' },
    ]);
  });
});

describe('decodePage with a decodeAll that miscounts', () => {
  it('refuses it with a typed error rather than losing or shifting records', () => {
    const short = {
      name: 'short',
      decode: () => ({ ok: true as const, value: 1 }),
      decodeAll: () => [{ ok: true as const, value: 1 }],
    };
    expect(() => decodePage(short, page('1', '2'))).toThrow(expect.objectContaining({ code: 'config.invalid' }));
  });
});

describe('memorySource with a decoder', () => {
  it('decodes each batch and rejects bad payloads with their position', async () => {
    const values = ['{"n":1}', '{"n":2', '{"n":3}', '{"n":4}'].map((t) => ({
      data: Buffer.from(t).toString('base64'),
    }));
    const src = memorySource('m', [{ shardId: 's', values }], {
      batchSize: 3,
      decode: { decoder: json<{ n: number }>(), payload: (v) => Buffer.from(v.data, 'base64') },
    });
    const bound = await src.bind({} as never);
    const reader = await bound.openShard({ shardId: 's', parentShardIds: [] }, { kind: 'TRIM_HORIZON' });
    const signal = new AbortController().signal;
    const first = await reader.next(signal);
    expect(first.records.map((r) => r.value.n)).toEqual([1, 3]);
    expect(first.rejected).toEqual([
      {
        position: { source: 'm', shardId: 's', sequenceNumber: '000000000000000000002' },
        code: 'decode.json',
        reason: expect.any(String),
        raw: '{"n":2',
      },
    ]);
    expect(first.checkpoint).toEqual({
      kind: 'sequence',
      sequenceNumber: '000000000000000000003',
      subSequenceNumber: 0,
    });
    const second = await reader.next(signal);
    expect(second.records.map((r) => r.value.n)).toEqual([4]);
    expect(second.ended).toBe(true);
  });
});
