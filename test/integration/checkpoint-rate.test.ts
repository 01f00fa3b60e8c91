import { afterAll, describe, expect, it } from 'vitest';
import { app, pipeline, Runner } from '../../src/index.js';
import { Metrics } from '../../src/observe/metrics.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { LeaseTable } from '../../src/runtime/leases/table.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { memorySource } from '../../src/testing/memory-source.js';
import { fastRunner, RequestsInFlight, runClockUntil, settleOn, testClients, unique } from '../helpers.js';

describe('checkpoint interval', () => {
  // Clients of this test alone: time moves only while none of their requests is under way.
  const clients = testClients();
  const requests = new RequestsInFlight(clients);
  afterAll(() => destroyClients(clients));

  it('writes a streaming shard’s checkpoint at most once per interval, and the last one at the end', async () => {
    const clock = new ManualClock();
    const total = 4_000;
    const values = { count: total, at: (i: number) => ({ n: i }) };
    // Batches of 10 acknowledged every 5 ms: a write per batch would be 400 checkpoints in 2 s.
    const sink = { name: 'slow', write: () => clock.sleep(5) };
    const def = app(unique('ckpt_rate'), [
      pipeline('p')
        .from(memorySource('nums', [{ shardId: 'shard-0', values }], { batchSize: 10 }))
        .to(sink),
    ]);
    const metrics = new Metrics();
    const intervalMs = 400;
    const runner = new Runner(def, {
      ...fastRunner,
      clients,
      clock,
      metrics,
      checkpointIntervalMs: intervalMs,
      maxBatchesInFlight: 1,
    });
    const t0 = clock.now();
    await runner.start();
    try {
      await runClockUntil(
        clock,
        async () => (await metrics.get('tributary_records_applied_total', { pipeline: 'p' })) === total,
        {
          requests,
          what: 'every record applied',
        },
      );
      const streamingMs = clock.now() - t0;
      const leases = new LeaseTable(clients.dynamodb, `${def.name}_leases`);
      await runClockUntil(clock, async () => (await leases.list()).some((l) => l.checkpoint.kind === 'SHARD_END'), {
        requests,
        what: 'the end of the shard checkpointed',
      });
      const writes = await metrics.get('tributary_checkpoints_total', { source: 'nums', shard: 'shard-0' });
      expect(streamingMs).toBeGreaterThanOrEqual((total / 10) * 5);
      // One at the first acknowledgement, one per interval after it, and the shard's end.
      expect(writes).toBeLessThanOrEqual(Math.ceil(streamingMs / intervalMs) + 2);
      expect(writes).toBeGreaterThanOrEqual(Math.floor(streamingMs / intervalMs));
    } finally {
      await settleOn(clock, runner.stop(), { requests });
    }
  });
});
