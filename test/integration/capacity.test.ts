import { UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { map } from 'rxjs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { app, pipeline, put, Runner, tableWriter } from '../../src/index.js';
import { createClients, destroyClients } from '../../src/runtime/clients.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { memorySource } from '../../src/testing/memory-source.js';
import { createTable, scanAll } from '../../src/testing/tables.js';
import { startThrottleProxy, type ThrottleProxy } from '../../src/testing/throttle-proxy/index.js';
import { fastRunner, RequestsInFlight, runClockUntil, settleOn, testClients, unique } from '../helpers.js';

describe('capacity governor against the throttling proxy', () => {
  const direct = testClients();
  // The runner and the proxy count the same seconds, and time moves only while no request through
  // the proxy is under way: the emulator's speed changes neither side's budget.
  const clock = new ManualClock();
  let proxy: ThrottleProxy;
  let viaProxy: ReturnType<typeof createClients>;
  let requests: RequestsInFlight;

  beforeAll(async () => {
    const e = inject('endpoints');
    proxy = await startThrottleProxy({ target: e.dynamodb, defaultBudget: 'provisioned', clock });
    viaProxy = createClients({ dynamodbEndpoint: proxy.endpoint, kinesisEndpoint: e.kinesis, region: 'us-east-1' });
    requests = new RequestsInFlight(viaProxy);
  });
  afterAll(async () => {
    destroyClients(viaProxy);
    destroyClients(direct);
    await proxy.stop();
  });

  const items = (n: number) =>
    memorySource(
      'items',
      [{ shardId: 's-0', values: { count: n, at: (i: number) => ({ id: `item-${i}`, body: 'x'.repeat(200) }) } }],
      { batchSize: 100 },
    );

  it('writes 3,000 items at 100 WCU with every item written and at most 1% of requests throttled', async () => {
    const sink = unique('cap_sink');
    await createTable(direct.dynamodb, {
      name: sink,
      partitionKey: { name: 'id', type: 'S' },
      provisioned: { read: 100, write: 100 },
    });
    const def = app(unique('cap'), [
      pipeline('load')
        .from(items(3_000))
        .pipe(map((r) => put(r.value)))
        .to(tableWriter(sink)),
    ]);
    const runner = new Runner(def, { ...fastRunner, clients: viaProxy, clock });
    const t0 = clock.now();
    await runner.start();
    await runClockUntil(clock, async () => (await runner.metrics.sum('tributary_records_applied_total')) === 3_000, {
      requests,
      what: 'all items applied',
    });
    const elapsedMs = clock.now() - t0;
    await settleOn(clock, runner.stop(), { requests });

    expect((await scanAll(direct.dynamodb, sink)).length).toBe(3_000);
    const s = proxy.stats(sink);
    const throttled = s.throttledRequests + s.partialRequests;
    expect(s.requests).toBeGreaterThan(100);
    expect(throttled / s.requests).toBeLessThanOrEqual(0.01);
    // The budget was used, neither left idle nor overrun: 3,000 WCU at 100/s is 30 s of budget
    // (29 s after the first second's worth in the bucket), on the clock the proxy meters too.
    expect(s.consumedWcu).toBeGreaterThanOrEqual(3_000);
    expect(elapsedMs).toBeGreaterThanOrEqual(29_000);
    expect(elapsedMs).toBeLessThanOrEqual(33_000);
    expect(await runner.metrics.get('tributary_capacity_budget_units_per_second', { table: sink, kind: 'write' })).toBe(
      100,
    );
  });

  it('picks up a new provisioned WCU without a restart', async () => {
    const sink = unique('cap_update');
    await createTable(direct.dynamodb, {
      name: sink,
      partitionKey: { name: 'id', type: 'S' },
      provisioned: { read: 10, write: 10 },
    });
    const def = app(unique('capupd'), [
      pipeline('load')
        .from(items(1_200))
        .pipe(map((r) => put(r.value)))
        .to(tableWriter(sink)),
    ]);
    const runner = new Runner(def, { ...fastRunner, clients: viaProxy, clock, capacity: { '*': { refreshMs: 500 } } });
    await runner.start();
    const applied = () => runner.metrics.sum('tributary_records_applied_total');
    await runClockUntil(clock, async () => (await applied()) >= 30, { requests, what: 'first writes' });
    const slow = await applied();
    expect(slow).toBeLessThan(200);

    await viaProxy.dynamodb.send(
      new UpdateTableCommand({
        TableName: sink,
        ProvisionedThroughput: { ReadCapacityUnits: 10, WriteCapacityUnits: 400 },
      }),
    );
    await runClockUntil(clock, () => runner.governor(sink).budget('write') === 400, {
      requests,
      withinMs: 1_000,
      what: 'the new budget',
    });
    // 1,100 items at 400 WCU take under 3 s; at the old 10 WCU they would take 110 s.
    await runClockUntil(clock, async () => (await applied()) === 1_200, {
      requests,
      withinMs: 5_000,
      what: 'the rest at the new rate',
    });
    await settleOn(clock, runner.stop(), { requests });
    expect(proxy.stats(sink).throttledRequests).toBe(0);
  });
});
