import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { isTributaryError } from '../../src/core/errors.js';
import { pipeline, type PipelineOptions } from '../../src/core/pipeline.js';
import { withRetry } from '../../src/core/retry.js';
import { silentLogger } from '../../src/observe/log.js';
import { Metrics } from '../../src/observe/metrics.js';
import type { DeadLetter } from '../../src/sinks/dead-letters.js';
import { PipelineExecutor } from '../../src/runtime/pipeline-executor.js';
import { memorySource } from '../../src/testing/memory-source.js';
import { memoryBatch, memoryDeadLetters } from '../helpers.js';

const throttled = () => Object.assign(new Error('slow down'), { name: 'ThrottlingException' });

/** An executor whose sink's every call is throttled, retried by the code base's retry loop (as TableIO does). */
function alwaysThrottled(options: PipelineOptions) {
  const sink = {
    name: 'throttled',
    attempts: 0,
    write: () =>
      withRetry(
        async () => {
          sink.attempts++;
          throw throttled();
        },
        { baseMs: 1, capMs: 5 },
      ),
  };
  const letters: DeadLetter[] = [];
  const metrics = new Metrics();
  const def = pipeline('p')
    .from(memorySource<number>('n', []))
    .with(options)
    .pipe(map((r) => r.value))
    .to(sink);
  const executor = new PipelineExecutor(def, {
    app: 'a',
    deadLetters: memoryDeadLetters(letters),
    metrics,
    log: silentLogger,
  });
  return { executor, sink, letters, metrics };
}

describe('PipelineExecutor failure limits', () => {
  it('with maxRetries, sends the records of a write still throttled after that many retries to the dead letters', async () => {
    const { executor, sink, letters, metrics } = alwaysThrottled({ maxRetries: 3 });
    await executor.process(memoryBatch([1, 2, 3, 4, 5]));
    // One call of 1 + 3 attempts: the records are not bisected, since the service failed, not they.
    expect(sink.attempts).toBe(4);
    expect(letters.map((l) => [l.code, l.stage])).toEqual(Array(5).fill(['sink.retriesExhausted', 'sink']));
    expect(letters[0]!.message).toMatch(/after 4 attempts.*ThrottlingException: slow down/);
    const applied = await metrics.get('tributary_records_applied_total', { pipeline: 'p' });
    expect(applied + letters.length).toBe(await metrics.get('tributary_records_in_total', { pipeline: 'p' }));
  });

  it('with maxRecordAgeMs, stops retrying once the oldest record of the write is older than that', async () => {
    const { executor, sink, letters } = alwaysThrottled({ maxRecordAgeMs: 30_000 });
    await executor.process(memoryBatch([1, 2], 60_000));
    expect(sink.attempts).toBe(1);
    expect(letters.map((l) => l.code)).toEqual(['sink.retriesExhausted', 'sink.retriesExhausted']);
  });

  it('retries without limit by default', async () => {
    let failures = 20;
    const written: number[] = [];
    const def = pipeline('p')
      .from(memorySource<number>('n', []))
      .pipe(map((r) => r.value))
      .to({
        name: 'flaky',
        write: (outs: readonly number[]) =>
          withRetry(
            async () => {
              if (failures-- > 0) throw throttled();
              written.push(...outs);
            },
            { baseMs: 1, capMs: 1 },
          ),
      });
    const letters: DeadLetter[] = [];
    const x = new PipelineExecutor(def, {
      app: 'a',
      deadLetters: memoryDeadLetters(letters),
      metrics: new Metrics(),
      log: silentLogger,
    });
    await x.process(memoryBatch([1, 2, 3], 3_600_000));
    expect(written).toEqual([1, 2, 3]);
    expect(letters).toEqual([]);
  });

  it('stops with runtime.deadLetterBudget once the dead letters pass the share of the window, instead of dead-lettering every record', async () => {
    const letters: DeadLetter[] = [];
    const metrics = new Metrics();
    const def = pipeline('p')
      .from(memorySource<number>('n', []))
      .with({ deadLetterBudget: { share: 0.5, window: 10 } })
      .pipe(
        map((r) => {
          if (r.value >= 0) throw new Error(`typo in key function`);
          return r.value;
        }),
      )
      .to({ name: 'never', write: async () => {} });
    const x = new PipelineExecutor(def, {
      app: 'a',
      deadLetters: memoryDeadLetters(letters),
      metrics,
      log: silentLogger,
    });
    const err = await x.process(memoryBatch(Array.from({ length: 50 }, (_, i) => i))).catch((e: unknown) => e);
    expect(isTributaryError(err, 'runtime.deadLetterBudget')).toBe(true);
    expect((err as Error).message).toMatch(/6 of its last 10 records.*typo in key function/);
    expect(letters).toHaveLength(6);
    expect(await metrics.get('tributary_dead_letter_share', { pipeline: 'p' })).toBe(1);
  });

  it('keeps going while the dead letters stay within the budget, and shows their share', async () => {
    const letters: DeadLetter[] = [];
    const metrics = new Metrics();
    const def = pipeline('p')
      .from(memorySource<number>('n', []))
      .with({ deadLetterBudget: { share: 0.2, window: 100 } })
      .pipe(
        map((r) => {
          if (r.value % 10 === 0) throw new Error(`bad ${r.value}`);
          return r.value;
        }),
      )
      .to({ name: 'ok', write: async () => {} });
    const x = new PipelineExecutor(def, {
      app: 'a',
      deadLetters: memoryDeadLetters(letters),
      metrics,
      log: silentLogger,
    });
    for (let b = 0; b < 5; b++) await x.process(memoryBatch(Array.from({ length: 100 }, (_, i) => i)));
    expect(letters).toHaveLength(50);
    expect(await metrics.get('tributary_dead_letter_share', { pipeline: 'p' })).toBeCloseTo(0.1);
  });

  it('refuses limits that make no sense', () => {
    const p = pipeline('p').from(memorySource<number>('n', []));
    expect(() => p.with({ maxRetries: -1 })).toThrow(/maxRetries/);
    expect(() => p.with({ maxRecordAgeMs: 0 })).toThrow(/maxRecordAgeMs/);
    expect(() => p.with({ deadLetterBudget: { share: 1.5 } })).toThrow(/share/);
    expect(() => p.with({ deadLetterBudget: { share: 0.1, window: 0 } })).toThrow(/window/);
  });
});
