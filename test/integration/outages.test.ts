import { afterAll, describe, expect, inject, it } from 'vitest';
import { app, pipeline, Runner } from '../../src/index.js';
import { Metrics } from '../../src/observe/metrics.js';
import { createClients, destroyClients } from '../../src/runtime/clients.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { memorySource } from '../../src/testing/memory-source.js';
import { startThrottleProxy, type ThrottleProxy } from '../../src/testing/throttle-proxy/index.js';
import { eventually, fastRunner, keptLog, runClockUntil, settleOn, unique } from '../helpers.js';

describe('an outage of DynamoDB', () => {
  const e = inject('endpoints');
  let proxy: ThrottleProxy | undefined;
  afterAll(async () => {
    await proxy?.stop();
  });

  it('is a warning at its first failed attempt, a summary with the count later, an info on recovery, and a metric', async () => {
    // The proxy stands for the endpoint: stopped, the port refuses; started again on it, DynamoDB answers.
    proxy = await startThrottleProxy({ target: e.dynamodb });
    const port = Number(new URL(proxy.endpoint).port);
    const clients = createClients({
      dynamodbEndpoint: proxy.endpoint,
      kinesisEndpoint: e.kinesis,
      region: 'us-east-1',
    });
    const clock = new ManualClock();
    const log = keptLog();
    const metrics = new Metrics();
    const def = app(unique('outage'), [
      pipeline('p')
        .from(memorySource('nums', [{ shardId: 'shard-0', values: [{ n: 1 }] }]))
        .to({ name: 'nothing', write: async () => {} }),
    ]);
    const runner = new Runner(def, { ...fastRunner, clients, clock, log, metrics });
    const lines = (msg: string) => log.lines.filter((l) => l.msg === msg);
    try {
      await runner.start();
      await proxy.stop();
      // Lease rounds and renewals run on the manual clock and retry on the system's: the next round fails.
      await runClockUntil(clock, () => lines('AWS call failed; retrying').length > 0, { what: 'the first warning' });
      const first = lines('AWS call failed; retrying')[0]!;
      expect(first.level).toBe('warn');
      expect(first.fields).toMatchObject({ service: 'DynamoDBClient', endpoint: proxy.endpoint });
      const operation = first.fields.operation as string;
      const ofOp = (msg: string) => lines(msg).filter((l) => l.fields.operation === operation);

      // Retries within the window are counted, not logged; the first failure after it is summarized.
      await clock.advance(30_000);
      await eventually(async () => ofOp('AWS call still failing').length > 0, 60_000, 'the summary');
      const summary = ofOp('AWS call still failing')[0]!;
      expect(summary.level).toBe('warn');
      expect(summary.fields.failedAttempts).toBeGreaterThanOrEqual(1);
      expect(ofOp('AWS call failed; retrying')).toHaveLength(1);

      proxy = await startThrottleProxy({ target: e.dynamodb, port });
      await eventually(async () => ofOp('AWS call recovered').length > 0, 60_000, 'the recovery');
      const recovered = ofOp('AWS call recovered');
      expect(recovered).toHaveLength(1);
      expect(recovered[0]!.level).toBe('info');
      const failedAttempts = recovered[0]!.fields.failedAttempts as number;
      expect(failedAttempts).toBeGreaterThan(summary.fields.failedAttempts as number);
      expect(await metrics.sum('tributary_aws_failed_attempts_total', { service: 'DynamoDBClient', operation })).toBe(
        failedAttempts,
      );
      expect(
        await metrics.get('tributary_aws_failed_attempts_total', {
          service: 'DynamoDBClient',
          operation,
          error: 'ECONNREFUSED',
        }),
      ).toBeGreaterThan(0);
    } finally {
      await settleOn(clock, runner.stop());
      destroyClients(clients);
    }
  }, 180_000);
});
