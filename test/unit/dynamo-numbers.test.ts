import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { _Record as StreamRecord } from '@aws-sdk/client-dynamodb-streams';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { isTributaryError } from '../../src/core/errors.js';
import { keyProblem } from '../../src/core/key-rules.js';
import { exactNumber, NumberValue, unmarshallImage } from '../../src/core/numbers.js';
import { recordJson } from '../../src/core/record-json.js';
import type { SourceEnv } from '../../src/core/source.js';
import { kinesisDynamoChanges } from '../../src/sources/decoding/kinesis-dynamodb.js';
import { toChange } from '../../src/sources/dynamodb/convert.js';
import { DynamoStreamsAdapter } from '../../src/sources/dynamodb/shard-adapter.js';
import { compilePlan, prepare } from '../../src/views/counter/prepare.js';

/** Numbers DynamoDB stores that a JS number cannot hold exactly. */
const WIDE = [
  '12345678901234567890.5',
  '9.99E+125',
  '3.1415926535897932384626433832795028841',
  '12345678901234567890123456789012345678',
  '-0.12345678901234567890123456789012345678',
  '9007199254740993',
  '1e21',
];

const item: Record<string, AttributeValue> = {
  id: { S: 'a' },
  small: { N: '12' },
  half: { N: '0.5' },
  tiny: { N: '-1e-130' },
  ...Object.fromEntries(WIDE.map((n, i) => [`w${i}`, { N: n }])),
  // The large member is not first: util-dynamodb's marshall types a set by its first member.
  set: { NS: ['1', '2', '12345678901234567890123456789012345678'] },
  plainSet: { NS: ['1', '2.5'] },
  nested: { M: { l: { L: [{ N: '9.99E+125' }, { NS: ['7', '1e-130', '1E+100'] }] } } },
};

const wireText = (v: unknown): string => (typeof v === 'number' ? String(v) : (v as NumberValue).toString());

describe('exactNumber', () => {
  it('gives a plain number where String(Number(text)) is the same decimal value within the safe range', () => {
    for (const [text, n] of [
      ['12', 12],
      ['-0.5', -0.5],
      ['1E+2', 100],
      ['0.0000001', 1e-7],
      ['-1e-130', -1e-130],
      ['9007199254740991', Number.MAX_SAFE_INTEGER],
    ] as const)
      expect(exactNumber(text)).toBe(n);
  });

  it('gives a bigint for a longer integer, and a NumberValue of the stored text for any other number a JS number would round', () => {
    for (const text of WIDE) {
      const v = exactNumber(text);
      if (/^-?\d+$/.test(text)) expect(v).toBe(BigInt(text));
      else expect(v).toBeInstanceOf(NumberValue);
      expect(v.toString()).toBe(text);
    }
  });
});

describe('unmarshallImage', () => {
  it('keeps every digit, and marshall writes the item back digit for digit', () => {
    const image = unmarshallImage(item);
    expect(image.small).toBe(12);
    expect(image.half).toBe(0.5);
    WIDE.forEach((n, i) => expect(wireText(image[`w${i}`])).toBe(n));
    const back = marshall(image, { removeUndefinedValues: true, convertClassInstanceToMap: true });
    expect(back).toEqual(item);
  });

  it('makes a number set all NumberValues when any member needs one, all numbers otherwise', () => {
    const image = unmarshallImage(item);
    expect([...(image.set as Set<unknown>)].every((x) => x instanceof NumberValue)).toBe(true);
    expect([...(image.plainSet as Set<unknown>)]).toEqual([1, 2.5]);
    const nested = (image.nested as { l: [unknown, Set<unknown>] }).l[1];
    expect([...nested].map(String)).toEqual(['7', '1e-130', '1E+100']);
  });
});

describe('the DynamoDB Streams reader', () => {
  const record = (seq: string, image: Record<string, AttributeValue>): StreamRecord => ({
    eventName: 'INSERT',
    eventID: `e${seq}`,
    dynamodb: { SequenceNumber: seq, Keys: { id: image.id! }, NewImage: image, SizeBytes: 10 },
  });

  it('converts a record holding any number DynamoDB stores without throwing or rounding', () => {
    const c = toChange<Record<string, unknown>>(record('100', item), 'orders', 'shard-1');
    WIDE.forEach((n, i) => expect(wireText(c.newImage![`w${i}`])).toBe(n));
  });

  it('sends a record it cannot convert to the dead letters alone, and reads on past it', async () => {
    const adapter = new DynamoStreamsAdapter<Record<string, unknown>>({} as SourceEnv, {
      source: 'orders',
      streamArn: 'arn',
      shardId: 'shard-1',
      batchSize: 100,
      idlePollMs: 1000,
    });
    // A type no DynamoDB version has today stands for any value the SDK cannot unmarshall.
    const unknownType = { id: { S: 'b' }, x: { Z: 'future' } } as unknown as Record<string, AttributeValue>;
    const page = await adapter.parse({
      records: [record('100', item), record('200', unknownType), record('300', { id: { S: 'c' } })],
      nextShardIterator: 'next',
    });
    expect(page.records.map((r) => r.position.sequenceNumber)).toEqual(['100', '300']);
    expect(page.rejected).toHaveLength(1);
    expect(page.rejected[0]).toMatchObject({
      position: { source: 'orders', shardId: 'shard-1', sequenceNumber: '200' },
      code: 'decode.schema',
      reason: expect.stringContaining('200'),
    });
    expect(JSON.parse(page.rejected[0]!.raw)).toMatchObject({ eventID: 'e200' });
    expect(page.resumeFrom).toEqual({ kind: 'sequence', sequenceNumber: '300', subSequenceNumber: 0 });

    // A rejected last record still moves the position past it.
    const tail = await adapter.parse({ records: [record('400', unknownType)], nextShardIterator: 'next' });
    expect(tail.resumeFrom).toEqual({ kind: 'sequence', sequenceNumber: '400', subSequenceNumber: 0 });
  });
});

describe('the Kinesis Data Streams for DynamoDB decoder', () => {
  it('keeps every digit of the images', () => {
    const json = {
      eventName: 'INSERT',
      dynamodb: { Keys: { id: { S: 'a' } }, NewImage: { id: { S: 'a' }, n: { N: WIDE[0] } } },
    };
    const r = kinesisDynamoChanges().decode(new TextEncoder().encode(JSON.stringify(json)));
    if (r instanceof Promise || !r.ok) throw new Error(`not decoded: ${JSON.stringify(r)}`);
    expect(wireText((r.value.newImage as { n: unknown }).n)).toBe(WIDE[0]);
  });
});

describe('numbers around the readers', () => {
  it('recordJson writes a NumberValue as its text', () => {
    expect(recordJson({ n: NumberValue.from(WIDE[2]!) })).toBe(`{"n":"${WIDE[2]}"}`);
  });

  it('a NumberValue is a number key', () => {
    expect(keyProblem({ name: 'k', type: 'N' }, NumberValue.from(WIDE[3]!))).toBeUndefined();
  });
});

describe('counter increments', () => {
  interface Ev {
    page: string;
    n: unknown;
  }
  const plan = compilePlan<Ev>({
    table: 'views',
    partitionKey: 'page',
    key: (e) => ({ page: e.page }),
    add: { total: (e) => e.n as number },
  });
  const reasonOf = (n: unknown): string => {
    try {
      prepare(plan, [{ page: 'a', n }]);
      return 'none';
    } catch (e) {
      return isTributaryError(e) ? `${e.code}: ${e.message}` : `other: ${String(e)}`;
    }
  };

  it('rejects one that is not a safe number as view.invalidIncrement, naming the value', () => {
    expect(reasonOf(NumberValue.from(WIDE[0]!))).toMatch(
      new RegExp(`^view\\.invalidIncrement: .*safe number.*NumberValue ${WIDE[0]!.replace('.', '\\.')}`),
    );
    expect(reasonOf(2n ** 60n)).toMatch(/^view\.invalidIncrement: .*1152921504606846976n/);
    expect(reasonOf(1e20)).toMatch(/^view\.invalidIncrement: .*1e\+?20|100000000000000000000/);
    expect(reasonOf(Number.NaN)).toMatch(/^view\.invalidIncrement: .*NaN/);
  });

  it('accepts a safe number, and a bigint within the safe range', () => {
    expect(reasonOf(0.25)).toBe('none');
    expect(reasonOf(Number.MAX_SAFE_INTEGER)).toBe('none');
    expect(
      prepare(plan, [{ page: 'a', n: 5n }])
        .sums.values()
        .next().value?.sums,
    ).toEqual([5]);
  });
});
