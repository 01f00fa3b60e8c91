import { describe, expect, it } from 'vitest';
import type { Checkpoint } from '../../src/core/position.js';
import { pipeline } from '../../src/core/pipeline.js';
import { silentLogger } from '../../src/observe/log.js';
import { Metrics } from '../../src/observe/metrics.js';
import type { LeaseKeeper } from '../../src/runtime/leases/keeper.js';
import { PipelineExecutor } from '../../src/runtime/pipeline-executor.js';
import { ShardWorker } from '../../src/runtime/shard-worker.js';
import type { DeadLetterTable } from '../../src/sinks/dead-letters.js';
import { memorySource } from '../../src/testing/memory-source.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('ShardWorker checkpoints', () => {
  it('arms no timer and writes nothing once run() has returned, even when the final write fails', async () => {
    // Writes take 300 ms; the final one fails. The stop lands while a timed write is under way.
    const writes: { at: number; cp: Checkpoint }[] = [];
    let stoppedAt = Infinity;
    const t0 = performance.now();
    const keeper = {
      async checkpoint(_key: string, cp: Checkpoint) {
        const at = performance.now() - t0;
        writes.push({ at, cp });
        await sleep(300);
        // Writes begun after the stop fail: the one under way at the stop succeeds.
        if (at >= stoppedAt) throw new Error('DynamoDB unavailable');
        return true;
      },
    } as unknown as LeaseKeeper;
    const source = memorySource(
      'nums',
      [{ shardId: 's', values: { count: 1_000_000, at: (i: number) => i }, closed: false }],
      { batchSize: 10 },
    );
    const bound = await source.bind({} as never);
    const sink = { name: 'slow', write: () => sleep(5) };
    const metrics = new Metrics();
    const deps = { keeper, deadLetters: {} as DeadLetterTable, metrics, log: silentLogger, app: 'a' };
    const executor = new PipelineExecutor(pipeline('p').from(source).to(sink), {
      app: 'a',
      deadLetters: deps.deadLetters,
      metrics,
      log: silentLogger,
    });
    const worker = new ShardWorker(
      'nums#s',
      { shardId: 's', parentShardIds: [] },
      { kind: 'TRIM_HORIZON' },
      bound,
      [executor],
      deps,
      { maxBatchesInFlight: 2, checkpointIntervalMs: 1_000 },
    );
    const done = worker.run();
    // First write at once (t ~ 0), the next one due at ~1,000 ms: stop at ~1,100 ms, during it.
    await sleep(1_100);
    expect(writes.length).toBe(2);
    stoppedAt = performance.now() - t0;
    worker.stop();
    const outcome = await done;
    const returnedAt = performance.now() - t0;
    const count = writes.length;
    expect(outcome.outcome).toBe('stopped');
    // The final write ran (and failed) before run() returned; nothing after it.
    expect(writes.at(-1)!.at).toBeLessThan(returnedAt);
    await sleep(1_500);
    expect(writes.length).toBe(count);
  });
});
