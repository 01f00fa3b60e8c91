import { afterAll, describe, expect, it } from 'vitest';
import { app, pipeline, Runner } from '../../src/index.js';
import { Metrics } from '../../src/observe/metrics.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { LeaseTable } from '../../src/runtime/leases/table.js';
import { memorySource } from '../../src/testing/memory-source.js';
import { eventually, fastRunner, testClients, unique } from '../helpers.js';

describe('checkpoint interval', () => {
  const clients = testClients();
  afterAll(() => destroyClients(clients));

  it('writes a streaming shard’s checkpoint at most once per interval, and the last one at the end', async () => {
    const total = 4_000;
    const values = { count: total, at: (i: number) => ({ n: i }) };
    // Batches of 10 acknowledged every ~5 ms: a write per batch would be ~200 checkpoints a second.
    const sink = { name: 'slow', write: () => new Promise<void>((r) => setTimeout(r, 5)) };
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
      metrics,
      checkpointIntervalMs: intervalMs,
      maxBatchesInFlight: 1,
    });
    const t0 = Date.now();
    await runner.start();
    try {
      await eventually(
        async () => (await metrics.get('tributary_records_applied_total', { pipeline: 'p' })) === total,
        60_000,
        'every record applied',
      );
      const streamingMs = Date.now() - t0;
      const leases = new LeaseTable(clients.dynamodb, `${def.name}_leases`);
      await eventually(
        async () => (await leases.list()).some((l) => l.checkpoint.kind === 'SHARD_END'),
        10_000,
        'the end of the shard checkpointed',
      );
      const writes = await metrics.get('tributary_checkpoints_total', { source: 'nums', shard: 'shard-0' });
      expect(streamingMs).toBeGreaterThan(3 * intervalMs);
      // One at the first acknowledgement, one per interval after it, and the shard's end.
      expect(writes).toBeLessThanOrEqual(Math.ceil(streamingMs / intervalMs) + 2);
      expect(writes).toBeGreaterThanOrEqual(3);
    } finally {
      await runner.stop();
    }
  });
});
