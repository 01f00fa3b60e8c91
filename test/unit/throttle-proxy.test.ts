import { describe, expect, it } from 'vitest';
import { provisionedBudget } from '../../src/testing/throttle-proxy/budgets.js';
import { capacityByTable, reduceCapacity, requestedLevel } from '../../src/testing/throttle-proxy/consumed.js';
import { crc32 } from '../../src/testing/throttle-proxy/crc32.js';
import { transactWriteEntry, updateUnits } from '../../src/testing/throttle-proxy/estimate.js';
import { TableMeter } from '../../src/testing/throttle-proxy/table-meter.js';
import { readUnits, wireItemSize, writeUnits } from '../../src/testing/throttle-proxy/wire-size.js';
import { tableNameOf, type Json } from '../../src/testing/throttle-proxy/wire.js';

/** A clock the test moves by hand. */
const clock = () => {
  let t = 0;
  const now = () => t;
  return { now, advance: (ms: number) => (t += ms) };
};

describe('item size and capacity units', () => {
  const x = (n: number) => ({ S: 'x'.repeat(n) });

  it('counts names and values as DynamoDB does', () => {
    expect(wireItemSize({ pk: { S: 'a' } })).toBe(3);
    expect(wireItemSize({ s: { S: 'é' } })).toBe(3); // UTF-8 bytes
    expect(wireItemSize({ n: { N: '12345678901234567890' } })).toBe(1 + 11);
    expect(wireItemSize({ n: { N: '-0.00100' } })).toBe(1 + 2);
    expect(wireItemSize({ b: { B: Buffer.alloc(100).toString('base64') } })).toBe(1 + 100);
    expect(wireItemSize({ b: { B: Buffer.alloc(101).toString('base64') } })).toBe(1 + 101);
    expect(wireItemSize({ m: { M: { ab: { S: 'xyz' } } } })).toBe(1 + 3 + 1 + 2 + 3);
    expect(wireItemSize({ l: { L: [{ S: 'ab' }, { BOOL: true }, { NULL: true }] } })).toBe(1 + 3 + 3 + 2 + 2);
    expect(wireItemSize({ ss: { SS: ['a', 'bc'] }, ns: { NS: ['1', '22'] } })).toBe(2 + 3 + 2 + 4);
  });

  // Boundaries at which DynamoDB Local reported 1 and 2 units for a PutItem.
  it('charges one write unit per started kilobyte, matching DynamoDB Local at the boundary', () => {
    expect(writeUnits(wireItemSize({ pk: { S: 's6' }, n: { N: '12345678901234567890' }, v: x(1007) }))).toBe(1);
    expect(writeUnits(wireItemSize({ pk: { S: 's7' }, n: { N: '12345678901234567890' }, v: x(1008) }))).toBe(2);
    expect(
      writeUnits(wireItemSize({ pk: { S: 's8' }, b: { B: Buffer.alloc(100).toString('base64') }, v: x(918) })),
    ).toBe(1);
    expect(
      writeUnits(wireItemSize({ pk: { S: 's9' }, b: { B: Buffer.alloc(100).toString('base64') }, v: x(919) })),
    ).toBe(2);
    expect(writeUnits(wireItemSize({ pk: { S: 'sa' }, m: { M: { ab: { S: 'xyz' } } }, v: x(1009) }))).toBe(1);
    expect(writeUnits(wireItemSize({ pk: { S: 'sb' }, m: { M: { ab: { S: 'xyz' } } }, v: x(1010) }))).toBe(2);
    expect(writeUnits(0)).toBe(1);
  });

  it('charges reads per started 4 KB, half when eventually consistent', () => {
    expect(readUnits(0, true)).toBe(1);
    expect(readUnits(4096, true)).toBe(1);
    expect(readUnits(4097, true)).toBe(2);
    expect(readUnits(4097, false)).toBe(1);
    expect(readUnits(10, false)).toBe(0.5);
  });

  it('doubles transactional writes and estimates updates from what they write', () => {
    expect(transactWriteEntry({ Put: { TableName: 't', Item: { pk: { S: 'a' }, v: x(2000) } } })).toEqual({
      table: 't',
      units: 4,
    });
    expect(transactWriteEntry({ ConditionCheck: { TableName: 't', Key: { pk: { S: 'a' } } } })).toEqual({
      table: 't',
      units: 2,
    });
    expect(updateUnits({ pk: { S: 'a' } }, { ':v': x(1500) })).toBe(2);
  });
});

describe('wire helpers', () => {
  it('computes the CRC32 DynamoDB puts in x-amz-crc32', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('{}'))).toBe(2745614147); // as DynamoDB Local sends for `{}`
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });

  it('reads table names given as ARNs', () => {
    expect(tableNameOf('orders')).toBe('orders');
    expect(tableNameOf('arn:aws:dynamodb:us-east-1:123456789012:table/orders')).toBe('orders');
    expect(tableNameOf('arn:aws:dynamodb:ddblocal:000000000000:table/orders/index/by_g')).toBe('orders');
  });

  it('cuts consumed capacity back to the level the client asked for', () => {
    const indexes = () =>
      ({
        ConsumedCapacity: {
          TableName: 't',
          CapacityUnits: 6,
          Table: { CapacityUnits: 3 },
          GlobalSecondaryIndexes: { g: { CapacityUnits: 3 } },
        },
      }) as Json;
    const none = indexes();
    reduceCapacity(none, requestedLevel({}));
    expect(none).toEqual({});
    const total = indexes();
    reduceCapacity(total, requestedLevel({ ReturnConsumedCapacity: 'TOTAL' }));
    expect(total).toEqual({ ConsumedCapacity: { TableName: 't', CapacityUnits: 6 } });
    const kept = indexes();
    reduceCapacity(kept, requestedLevel({ ReturnConsumedCapacity: 'INDEXES' }));
    expect(kept).toEqual(indexes());
    const list: Json = {
      ConsumedCapacity: [
        { TableName: 'a', CapacityUnits: 1, Table: { CapacityUnits: 1 } },
        { TableName: 'b', CapacityUnits: 2 },
      ],
    };
    expect([...capacityByTable(list).keys()]).toEqual(['a', 'b']);
    reduceCapacity(list, 'TOTAL');
    expect(list.ConsumedCapacity).toEqual([
      { TableName: 'a', CapacityUnits: 1 },
      { TableName: 'b', CapacityUnits: 2 },
    ]);
  });

  it('takes provisioned budgets from DescribeTable, GSIs included, and none from on-demand tables', () => {
    const gsi = { IndexName: 'g', ProvisionedThroughput: { ReadCapacityUnits: 3, WriteCapacityUnits: 4 } };
    expect(
      provisionedBudget({
        ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 7 },
        GlobalSecondaryIndexes: [gsi],
      }),
    ).toEqual({
      budget: { wcu: 7, rcu: 5, indexes: { g: { wcu: 4, rcu: 3 } } },
      gsis: ['g'],
    });
    const onDemand = {
      ProvisionedThroughput: { ReadCapacityUnits: 0, WriteCapacityUnits: 0 },
      BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
    };
    expect(provisionedBudget(onDemand)).toEqual({ budget: undefined, gsis: [] });
  });
});

describe('TableMeter', () => {
  const meter = (budget = 10) => {
    const c = clock();
    const m = new TableMeter('t', { windowSeconds: 1, now: c.now });
    m.setBudget({ wcu: budget, rcu: budget, indexes: { g: { wcu: 2, rcu: 1 } } });
    return { m, c };
  };

  it('settles a reservation to the reported consumption, charging each GSI its share', () => {
    const { m } = meter();
    const r = m.reserve('write', 1);
    m.settle([r], {
      TableName: 't',
      CapacityUnits: 6,
      Table: { CapacityUnits: 3 },
      GlobalSecondaryIndexes: { g: { CapacityUnits: 3 } },
    });
    expect(m.stats()).toMatchObject({ consumedWcu: 3, indexes: { g: { consumedWcu: 3 } } });
    // The GSI is now in debt: writes to the table are refused on its account, reads of the table are not.
    expect(m.blocked('write')).toEqual({ kind: 'write', index: 'g' });
    expect(m.blocked('read')).toBeUndefined();
  });

  it('keeps the estimate when nothing is reported, and can take it as a floor', () => {
    const { m } = meter();
    m.settle([m.reserve('write', 2)], undefined);
    m.settle([m.reserve('write', 4)], { TableName: 't', CapacityUnits: 2 }, true);
    m.settle([m.reserve('write', 1)], { TableName: 't', CapacityUnits: 3 }, true);
    expect(m.stats().consumedWcu).toBe(2 + 4 + 3);
  });

  it('reads on a GSI draw from the GSI budget, reads on the table (or an LSI) from the table', () => {
    const { m } = meter();
    expect(m.resourceFor('read', 'g')).toBe('g');
    expect(m.resourceFor('read', 'some_lsi')).toBe('');
    expect(m.resourceFor('read')).toBe('');
    m.settle([m.reserve('read', 0.5, 'g')], {
      TableName: 't',
      CapacityUnits: 2,
      Table: { CapacityUnits: 0 },
      GlobalSecondaryIndexes: { g: { CapacityUnits: 2 } },
    });
    expect(m.blocked('read', 'g')).toEqual({ kind: 'read', index: 'g' });
    expect(m.blocked('read')).toBeUndefined();
    expect(m.stats()).toMatchObject({ consumedRcu: 0, indexes: { g: { consumedRcu: 2 } } });
  });

  it('starts a budget with one second of it, and banks unused capacity up to the burst window', () => {
    const c = clock();
    const m = new TableMeter('t', { windowSeconds: 300, now: c.now });
    m.setBudget({ wcu: 10 });
    m.reserve('write', 10);
    expect(m.blocked('write')).toEqual({ kind: 'write' });
    c.advance(1_000_000);
    m.reserve('write', 2_999);
    expect(m.blocked('write')).toBeUndefined();
    m.reserve('write', 1);
    expect(m.blocked('write')).toEqual({ kind: 'write' });
  });

  it('keeps the balance of its buckets when the budget changes', () => {
    const c = clock();
    const m = new TableMeter('t', { windowSeconds: 1, now: c.now });
    m.setBudget({ wcu: 100 });
    m.reserve('write', 95);
    m.setBudget({ wcu: 1_000 });
    expect(m.blocked('write')).toBeUndefined();
    m.reserve('write', 5);
    expect(m.blocked('write')).toEqual({ kind: 'write' });
  });

  it('refunds what was not carried out, and admits while the balance is above zero', () => {
    const { m, c } = meter(2);
    const r = m.reserve('write', 2);
    expect(m.blocked('write')).toEqual({ kind: 'write' });
    m.refund(r);
    expect(m.blocked('write')).toBeUndefined();
    m.reserve('write', 5);
    c.advance(1_400);
    expect(m.blocked('write')).toEqual({ kind: 'write' });
    c.advance(200);
    expect(m.blocked('write')).toBeUndefined();
  });
});
