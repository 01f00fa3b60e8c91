import { describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../../src/observe/log.js';
import { createClients, destroyClients } from '../../src/runtime/clients.js';
import { toolkit } from '../../src/runtime/toolkit.js';
import { startThrottleProxy } from '../../src/testing/index.js';
import { createTable, scanAll } from '../../src/testing/tables.js';
import { batch, type BatchOp } from '../../src/toolkit/batch.js';
import { testClients, unique } from '../helpers.js';

interface Order {
  customerId: string;
  orderId: string;
  total: number;
}

describe('batch', () => {
  it('5,000 mixed operations on two tables through a throttling proxy at a low budget all complete, none with a throttling error', async () => {
    const direct = testClients();
    const [orders, customers] = [unique('b_orders'), unique('b_customers')];
    // The tables say 600 units a second; the proxy allows 300: the governor learns it by throttling.
    await createTable(direct.dynamodb, {
      name: orders,
      partitionKey: { name: 'customerId', type: 'S' },
      sortKey: { name: 'orderId', type: 'S' },
      provisioned: { read: 600, write: 600 },
    });
    await createTable(direct.dynamodb, {
      name: customers,
      partitionKey: { name: 'customerId', type: 'S' },
      provisioned: { read: 600, write: 600 },
    });
    const proxy = await startThrottleProxy({
      target: inject('endpoints').dynamodb,
      tables: { [orders]: { wcu: 300, rcu: 300 }, [customers]: { wcu: 300, rcu: 300 } },
      burst: false,
    });
    const clients = createClients({ dynamodbEndpoint: proxy.endpoint, region: 'us-east-1' });
    const tk = toolkit(clients, { log: silentLogger });
    try {
      const b = batch(tk, { concurrency: 16 });
      const puts: BatchOp<void>[] = [];
      for (let i = 0; i < 1_800; i++)
        puts.push(b.put(orders, { customerId: `c${i % 50}`, orderId: `o${i}`, total: i } satisfies Order));
      for (let c = 0; c < 50; c++) puts.push(b.put(customers, { customerId: `c${c}`, name: `customer ${c}` }));
      // A second write of a key goes after the first: the last one wins.
      for (let i = 0; i < 150; i++)
        puts.push(b.put(orders, { customerId: `c${i % 50}`, orderId: `o${i}`, total: -i - 1 }));
      const deletes = Array.from({ length: 500 }, (_, i) =>
        b.delete(orders, { customerId: `c${(1_000 + i) % 50}`, orderId: `o${1_000 + i}` }),
      );
      const gets = Array.from({ length: 2_000 }, (_, i) =>
        b.get<Order>(orders, { customerId: `c${i % 50}`, orderId: `o${i}` }),
      );
      const customerGets = Array.from({ length: 50 }, (_, c) => b.get(customers, { customerId: `c${c}` }));
      const queries = Array.from({ length: 450 }, (_, i) =>
        b.query<Order>(orders, {
          keyCondition: '#c = :c AND begins_with(#o, :p)',
          names: { '#c': 'customerId', '#o': 'orderId' },
          values: { ':c': `c${i % 50}`, ':p': 'o1' },
        }),
      );
      expect(puts.length + deletes.length + gets.length + customerGets.length + queries.length).toBe(5_000);

      const result = await b.run();
      expect(result.failed).toBe(0);
      // Every get saw the batch's writes: overwritten, deleted, or as first put.
      for (let i = 0; i < 2_000; i++) {
        const got = result.get(gets[i]!);
        if (i >= 1_000 && i < 1_500) expect(got).toBeUndefined();
        else if (i >= 1_800) expect(got).toBeUndefined();
        else expect(got?.total).toBe(i < 150 ? -i - 1 : i);
      }
      for (const g of customerGets) expect(result.get(g)).toBeDefined();
      const q0 = result.get(queries[0]!);
      expect(q0.every((o) => o.customerId === 'c0' && o.orderId.startsWith('o1'))).toBe(true);
      expect(q0.length).toBeGreaterThan(0);
      const rows = await scanAll<Order>(direct.dynamodb, orders);
      expect(rows.length).toBe(1_800 - 500);
      // The proxy did throttle: the governor found the real budget by it, and nothing reached the caller.
      const throttled = proxy.stats(orders).throttledRequests + proxy.stats(orders).partialRequests;
      console.log(`batch: 5,000 operations, ${throttled} throttled or partial requests at the proxy`);
      expect(throttled).toBeGreaterThan(0);
    } finally {
      tk.stop();
      destroyClients(clients);
      destroyClients(direct);
      await proxy.stop();
    }
  });

  it('fails one refused item alone: its neighbours in the same call are written, its error is typed', async () => {
    const clients = testClients();
    const table = unique('b_refused');
    const tk = toolkit(clients, { log: silentLogger });
    try {
      await createTable(clients.dynamodb, { name: table, partitionKey: { name: 'id', type: 'S' } });
      const b = batch(tk);
      const ok = Array.from({ length: 10 }, (_, i) => b.put(table, { id: `k${i}`, v: i }));
      const tooBig = b.put(table, { id: 'big', v: 'x'.repeat(410_000) });
      const wrongKey = b.put(table, { id: 7, v: 1 });
      const result = await b.run();
      for (const op of ok) expect(() => result.get(op)).not.toThrow();
      expect(result.error(tooBig)?.code).toBe('toolkit.operationFailed');
      expect(() => result.get(wrongKey)).toThrow(/put on table/);
      expect(result.failed).toBe(2);
      expect((await scanAll(clients.dynamodb, table)).length).toBe(10);
    } finally {
      tk.stop();
      destroyClients(clients);
    }
  });
});
