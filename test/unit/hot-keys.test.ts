import { describe, expect, it } from 'vitest';
import { app, counterView, dynamodbTable, pipeline, type DynamoChange } from '../../src/index.js';
import type { Logger } from '../../src/observe/log.js';
import { Metrics } from '../../src/observe/metrics.js';
import { FrequentItems } from '../../src/operators/windows/top-k.js';
import { HotKeys } from '../../src/runtime/capacity/hot-keys.js';
import { ManualClock, TestDriver } from '../../src/testing/index.js';

/** Zipf(s = 1.1) over n keys, seeded: key 0 is the hottest. */
function zipf(n: number, seed: number): () => number {
  const weights = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** 1.1);
  const total = weights.reduce((a, w) => a + w, 0);
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    let r = (x / 2147483648) * total;
    for (let i = 0; i < n; i++) if ((r -= weights[i]!) <= 0) return i;
    return n - 1;
  };
}

describe('hot keys', () => {
  it('a weighted frequent-items summary of 64 counters finds the hottest of 5,000 Zipf keys, within its error bound', () => {
    const f = new FrequentItems(64);
    const next = zipf(5_000, 7);
    const truth = new Map<string, number>();
    for (let i = 0; i < 50_000; i++) {
      const k = `k${next()}`;
      const units = 1 + (i % 3) * 0.5;
      f.add(k, units);
      truth.set(k, (truth.get(k) ?? 0) + units);
    }
    const [top] = f.top(1);
    expect(top!.value).toBe('k0');
    expect(f.counters.size).toBeLessThanOrEqual(64);
    // A count is a lower bound, under the truth by at most the error.
    expect(top!.count).toBeLessThanOrEqual(truth.get('k0')!);
    expect(top!.count + top!.error).toBeGreaterThanOrEqual(truth.get('k0')!);
  });

  it('reports the hottest key of the last 10 s against one partition and the budget, and warns when it takes most of the budget', async () => {
    const clock = new ManualClock();
    const metrics = new Metrics();
    const warnings: { msg: string; fields?: object }[] = [];
    const log = {
      debug() {},
      info() {},
      warn: (msg: string, fields?: object) => void warnings.push({ msg, fields }),
      error() {},
      child: () => log,
    } as Logger;
    const hot = new HotKeys('orders', { clock, metrics, log, budget: () => 100 });
    const next = zipf(1_000, 3);
    // 10 s at 1,000 writes a second of 1 unit: the hottest key takes about a sixth.
    for (let s = 0; s < 10; s++) {
      for (let i = 0; i < 1_000; i++) hot.record('write', `c${next()}`, 1);
      await clock.advance(1_000);
    }
    hot.record('write', 'c0', 0);
    const report = hot.report().write!;
    expect(report.top[0]!.key).toBe('c0');
    expect(report.unitsPerSecond).toBeCloseTo(1_000, 0);
    expect(report.partitionShare).toBeCloseTo(report.top[0]!.unitsPerSecond / 1_000, 5);
    expect(report.budgetShare).toBeGreaterThan(0.5);
    expect(warnings.map((w) => w.msg)).toEqual(['one partition key takes most of the capacity']);
  });

  it("counts a running app's view writes by partition key: the governor of the view table names the hottest customer", async () => {
    interface Order {
      id: string;
      customer: string;
    }
    const driver = await TestDriver.start(() =>
      app(
        'hot',
        [
          pipeline('per-customer')
            .from(dynamodbTable<Order>('orders'))
            .to(
              counterView<DynamoChange<Order>>({
                table: 'per_customer',
                partitionKey: 'customer',
                key: (c) => ({ customer: c.newImage!.customer }),
                add: { orders: 1 },
                flush: { maxDelayMs: 50 },
              }),
            ),
        ],
        { tables: [{ name: 'orders', partitionKey: { name: 'id', type: 'S' }, stream: 'NEW_AND_OLD_IMAGES' }] },
      ),
    );
    try {
      const next = zipf(50, 11);
      for (let s = 0; s < 12; s++) {
        for (let i = 0; i < 30; i++)
          await driver.table<Order>('orders').put({ id: `o${s}-${i}`, customer: `c${next()}` });
        await driver.advance(1_000);
      }
      await driver.settle();
      const report = driver.runner.governor('per_customer').hotKeys().write;
      expect(report?.top[0]?.key).toBe('c0');
      expect(
        await driver.metrics.get('tributary_hot_key_units_per_second', { table: 'per_customer', kind: 'write' }),
      ).toBeGreaterThan(0);
    } finally {
      await driver.stop();
    }
  });
});
