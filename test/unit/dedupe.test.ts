import { from, lastValueFrom, map, toArray, type MonoTypeOperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../src/core/batch.js';
import { pipeline } from '../../src/core/pipeline.js';
import type { KinesisRecord } from '../../src/core/records.js';
import { silentLogger } from '../../src/observe/log.js';
import { Metrics } from '../../src/observe/metrics.js';
import { dedupe } from '../../src/operators/dedupe.js';
import { PipelineExecutor } from '../../src/runtime/pipeline-executor.js';
import type { DeadLetter } from '../../src/sinks/dead-letters.js';
import { memorySource, type MemoryRecord } from '../../src/testing/memory-source.js';
import { memoryDeadLetters } from '../helpers.js';

type Rec = MemoryRecord<string>;

/** Records of one shard with consecutive sequence numbers from `first`; the value is the dedupe key. */
const records = (keys: string[], first = 1, shardId = 's-0'): Rec[] =>
  keys.map((value, i) => ({
    type: 'memory',
    value,
    position: { source: 'src', shardId, sequenceNumber: String(first + i) },
  }));

/** Runs one batch through the operator, as the executor does: `from(batch.records).pipe(op)`. */
const run = (op: MonoTypeOperatorFunction<Rec>, batch: Rec[]): Promise<string[]> =>
  lastValueFrom(
    from(batch).pipe(
      op,
      map((r) => `${r.value}@${r.position.sequenceNumber}`),
      toArray(),
    ),
  );

/** A clock the test moves by hand. */
function testClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('dedupe', () => {
  it('passes the first record of each key and drops later ones, within a batch and across batches', async () => {
    const clock = testClock();
    const op = dedupe<Rec>({ key: (r) => r.value, within: { ms: 60_000 }, time: clock.now });
    expect(await run(op, records(['a', 'b', 'a', 'c', 'b'], 1))).toEqual(['a@1', 'b@2', 'c@4']);
    // A new batch is a new subscription: what was seen must still be remembered.
    expect(await run(op, records(['c', 'd', 'a'], 6))).toEqual(['d@7']);
  });

  it('passes a retried record again, because it sits at the position that first carried its key', async () => {
    const clock = testClock();
    const op = dedupe<Rec>({ key: (r) => r.value, within: { ms: 60_000 }, time: clock.now });
    const batch = records(['a', 'b', 'a'], 1);
    expect(await run(op, batch)).toEqual(['a@1', 'b@2']);
    // The runner re-runs the operators over the same records, then over halves when it bisects.
    expect(await run(op, batch)).toEqual(['a@1', 'b@2']);
    expect(await run(op, batch.slice(2))).toEqual([]);
    expect(await run(op, batch.slice(0, 1))).toEqual(['a@1']);
    // The same sequence number on another shard is another record.
    expect(await run(op, records(['a'], 1, 's-1'))).toEqual([]);
  });

  it('lets a key pass again once the record that passed with it is older than within.ms', async () => {
    const clock = testClock();
    const op = dedupe<Rec>({ key: (r) => r.value, within: { ms: 1_000 }, time: clock.now });
    expect(await run(op, records(['a'], 1))).toEqual(['a@1']);
    clock.advance(1_000);
    expect(await run(op, records(['a'], 2))).toEqual([]);
    clock.advance(1);
    expect(await run(op, records(['a'], 3))).toEqual(['a@3']);
    // The window now starts at the record that passed last.
    clock.advance(500);
    expect(await run(op, records(['a'], 4))).toEqual([]);
  });

  it('forgets the least recently seen keys beyond within.keys', async () => {
    const op = dedupe<Rec>({ key: (r) => r.value, within: { keys: 2 } });
    expect(await run(op, records(['a', 'b'], 1))).toEqual(['a@1', 'b@2']);
    // Seeing 'a' again (dropped) makes it recent, so 'c' pushes out 'b'.
    expect(await run(op, records(['a', 'c'], 3))).toEqual(['c@4']);
    expect(await run(op, records(['c', 'a'], 5))).toEqual([]);
    // 'b' was forgotten: it passes, and pushes out 'c', now the least recently seen.
    expect(await run(op, records(['b'], 7))).toEqual(['b@7']);
    expect(await run(op, records(['a', 'c'], 8))).toEqual(['c@9']);
  });

  it("measures the window on the records' own time by default (Kinesis arrival time)", async () => {
    const at = (value: string, seq: number, minute: number): KinesisRecord<string> => ({
      type: 'kinesis',
      value,
      partitionKey: value,
      arrivalTime: new Date(Date.UTC(2026, 0, 1, 0, minute)),
      position: { source: 'clicks', shardId: 's-0', sequenceNumber: String(seq), subSequenceNumber: 0 },
      sizeBytes: 1,
    });
    const op = dedupe<KinesisRecord<string>>({ key: (r) => r.value, within: { ms: 5 * 60_000 } });
    // Read in one go, as a backlog is: processing time says nothing about how far apart they arrived.
    const out = await lastValueFrom(
      from([at('a', 1, 0), at('a', 2, 4), at('a', 3, 10), at('b', 4, 10)]).pipe(
        op,
        map((r) => r.position.sequenceNumber),
        toArray(),
      ),
    );
    expect(out).toEqual(['1', '3', '4']);
  });

  it('applies every record exactly once through an executor that retries and bisects the batch', async () => {
    const written: string[] = [];
    const letters: DeadLetter[] = [];
    let failures = 2;
    const def = pipeline('p')
      .from(memorySource<string>('src', []))
      .pipe(
        dedupe({ key: (r) => r.value, within: { ms: 60_000 } }),
        map((r) => r.value),
      )
      .to({
        name: 'flaky',
        write: async (outs) => {
          // The first two writes fail: the batch is retried, then bisected.
          if (failures-- > 0) throw new Error('flaky');
          written.push(...outs);
        },
      });
    const executor = new PipelineExecutor(def, {
      app: 'a',
      deadLetters: memoryDeadLetters(letters),
      metrics: new Metrics(),
      log: silentLogger,
    });
    const batch: Batch<Rec> = {
      source: 'src',
      shardId: 's-0',
      seq: 0,
      records: records(['a', 'b', 'a', 'c', 'b', 'd']),
      rejected: [],
      checkpoint: undefined,
    };
    await executor.process(batch);
    expect(letters).toEqual([]);
    expect(written).toEqual(['a', 'b', 'c', 'd']);
  });

  it('refuses a window that bounds nothing, or bounds of zero', () => {
    for (const within of [{}, { keys: 0 }, { ms: 0 }])
      expect(() => dedupe<Rec>({ key: (r) => r.value, within })).toThrow(
        expect.objectContaining({ name: 'TributaryError', code: 'config.invalid' }),
      );
  });
});
