import { describe, expect, it } from 'vitest';
import type { Checkpoint } from '../../src/core/position.js';
import { pipeline } from '../../src/core/pipeline.js';
import { silentLogger } from '../../src/observe/log.js';
import { Metrics } from '../../src/observe/metrics.js';
import type { LeaseKeeper } from '../../src/runtime/leases/keeper.js';
import { PipelineExecutor } from '../../src/runtime/pipeline-executor.js';
import { ShardWorker } from '../../src/runtime/shard-worker.js';
import type { DeadLetterTable } from '../../src/sinks/dead-letters.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { memorySource } from '../../src/testing/memory-source.js';
import { settleOn } from '../helpers.js';

describe('ShardWorker checkpoints', () => {
  it('arms no timer and writes nothing once run() has returned, even when the final write fails', async () => {
    const clock = new ManualClock();
    // Writes take 300 ms; the final one fails. The stop lands while a timed write is under way.
    const writes: { at: number; cp: Checkpoint }[] = [];
    let stoppedAt = Infinity;
    const keeper = {
      async checkpoint(_key: string, cp: Checkpoint) {
        const at = clock.now();
        writes.push({ at, cp });
        await clock.sleep(300);
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
    const sink = { name: 'slow', write: () => clock.sleep(5) };
    const metrics = new Metrics();
    const deps = { keeper, deadLetters: {} as DeadLetterTable, metrics, log: silentLogger, app: 'a', clock };
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
      1,
      bound,
      [executor],
      deps,
      { maxBatchesInFlight: 2, checkpointIntervalMs: 1_000 },
    );
    const done = worker.run();
    // The first write at the first acknowledgement (5 ms), the next one a second later: stop during it.
    await clock.advance(1_100);
    expect(writes.map((w) => w.at)).toEqual([5, 1_005]);
    stoppedAt = clock.now();
    worker.stop();
    const outcome = await settleOn(clock, done);
    const returnedAt = clock.now();
    expect(outcome.outcome).toBe('stopped');
    // The final write waited for the one under way (until 1,305 ms), and ran (and failed) before run() returned.
    expect(writes.length).toBeGreaterThan(2);
    expect(writes.at(2)!.at).toBeGreaterThanOrEqual(1_305);
    expect(writes.at(-1)!.at + 300).toBeLessThanOrEqual(returnedAt);
    // Nothing after it: no timer is left, and moving time on writes nothing.
    expect(clock.pending).toBe(0);
    const count = writes.length;
    await clock.advance(1_500);
    expect(writes).toHaveLength(count);
  });
});
