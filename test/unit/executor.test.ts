import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/errors.js';
import { pipeline } from '../../src/core/pipeline.js';
import { silentLogger, type Logger } from '../../src/observe/log.js';
import { Metrics } from '../../src/observe/metrics.js';
import type { DeadLetter } from '../../src/sinks/dead-letters.js';
import { PipelineExecutor } from '../../src/runtime/pipeline-executor.js';
import { memorySource } from '../../src/testing/memory-source.js';
import { memoryBatch, memoryDeadLetters } from '../helpers.js';

/** An executor whose sink rejects, with `reject()`, every write that holds a 3; counts the sink's writes. */
function rejectingThrees(reject: () => unknown, letters: DeadLetter[], log: Logger = silentLogger) {
  const sink = {
    name: 'picky',
    writes: 0,
    write: async (outs: readonly number[]) => {
      sink.writes++;
      if (outs.includes(3)) throw reject();
    },
  };
  const def = pipeline('p')
    .from(memorySource<number>('n', []))
    .pipe(map((r) => r.value))
    .to(sink);
  const executor = new PipelineExecutor(def, {
    app: 'a',
    deadLetters: memoryDeadLetters(letters),
    metrics: new Metrics(),
    log,
  });
  return { executor, sink };
}

describe('PipelineExecutor', () => {
  it('bisects a failing batch: the poison records go to the dead letters, the rest are written once each in order', async () => {
    const written: number[] = [];
    const letters: DeadLetter[] = [];
    const metrics = new Metrics();
    const def = pipeline('p')
      .from(memorySource<number>('n', []))
      .pipe(
        map((r) => {
          if (r.value % 37 === 5) throw new Error(`bad ${r.value}`);
          return r.value;
        }),
      )
      .to({ name: 'collect', write: async (outs) => void written.push(...outs) });
    const x = new PipelineExecutor(def, {
      app: 'a',
      deadLetters: memoryDeadLetters(letters),
      metrics,
      log: silentLogger,
    });
    const values = Array.from({ length: 100 }, (_, i) => i);
    await x.process(memoryBatch(values));
    const bad = values.filter((v) => v % 37 === 5);
    expect(letters.map((l) => l.message)).toEqual(bad.map((v) => `bad ${v}`));
    expect(written).toEqual(values.filter((v) => v % 37 !== 5));
    expect(await metrics.get('tributary_records_in_total', { pipeline: 'p' })).toBe(100);
    expect((await metrics.get('tributary_records_applied_total', { pipeline: 'p' })) + letters.length).toBe(100);
  });

  it('isolates a record whose output a sink rejects', async () => {
    const letters: DeadLetter[] = [];
    const { executor } = rejectingThrees(
      () => Object.assign(new Error('no threes'), { name: 'ValidationException' }),
      letters,
    );
    await executor.process(memoryBatch([1, 2, 3, 4]));
    expect(letters).toHaveLength(1);
    expect(letters[0]!.position.sequenceNumber).toBe('3');
    expect(letters[0]!.code).toBe('ValidationException');
  });

  it('fails fast when asked, writing nothing to the dead letters', async () => {
    const letters: DeadLetter[] = [];
    const def = pipeline('p')
      .from(memorySource<number>('n', []))
      .pipe(
        map(() => {
          throw new Error('boom');
        }),
      )
      .with({ failFast: true })
      .to({ name: 'none', write: async () => {} });
    const x = new PipelineExecutor(def, {
      app: 'a',
      deadLetters: memoryDeadLetters(letters),
      metrics: new Metrics(),
      log: silentLogger,
    });
    await expect(x.process(memoryBatch([1]))).rejects.toMatchObject({ code: 'runtime.failFast' });
    expect(letters).toHaveLength(0);
  });

  it('bisects at once when the error says retrying cannot help, and retries the whole batch otherwise', async () => {
    const writesUntilIsolated = async (reject: () => unknown): Promise<number> => {
      const letters: DeadLetter[] = [];
      const { executor, sink } = rejectingThrees(reject, letters);
      await executor.process(memoryBatch([1, 2, 3, 4]));
      expect(letters.map((l) => l.position.sequenceNumber)).toEqual(['3']);
      return sink.writes;
    };
    // [1,2,3,4] fails; then [1,2] ok, [3,4] fails, [3] fails (dead letter), [4] ok.
    const bisection = 5;
    expect(await writesUntilIsolated(() => new TributaryError('sink.itemTooLarge', 'too large'))).toBe(bisection);
    // One more attempt of the whole batch first (batchAttempts 2) when the error may be transient.
    expect(await writesUntilIsolated(() => new Error('connection reset'))).toBe(bisection + 1);
  });

  it('logs a dead letter as a warning when the record is at fault, as an error when a service is', async () => {
    const levels: string[] = [];
    const log: Logger = {
      ...silentLogger,
      warn: (msg) => void levels.push(`warn: ${msg}`),
      error: (msg) => void levels.push(`error: ${msg}`),
    };
    const clientFault = () => new TributaryError('view.invalidKey', 'no key');
    const serverFault = () => Object.assign(new Error('internal'), { name: 'InternalServerError', $fault: 'server' });
    await rejectingThrees(clientFault, [], log).executor.process(memoryBatch([3]));
    await rejectingThrees(serverFault, [], log).executor.process(memoryBatch([3]));
    expect(levels).toEqual(['warn: record sent to dead letters', 'error: record sent to dead letters']);
  });
});
