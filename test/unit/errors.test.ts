import { describe, expect, it } from 'vitest';
import { app, pipeline } from '../../src/core/pipeline.js';
import { parseDuration } from '../../src/core/time.js';
import { memorySource } from '../../src/testing/memory-source.js';

/** A thrown value, for assertions on what a call throws. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

describe('errors thrown through the public API', () => {
  it('are TributaryErrors with config.invalid from the pipeline builder and the time helpers', () => {
    const src = memorySource<number>('n', []);
    const sink = { name: 's', write: async () => {} };
    const cases = [
      () => pipeline('no spaces allowed'),
      () => pipeline('p').to(sink),
      () => pipeline('p').from(src).to(),
      () => app('a', [pipeline('p').from(src).to(sink), pipeline('p').from(src).to(sink)]),
      () => app('a/b', []),
      () => parseDuration('soon'),
    ];
    for (const c of cases) expect(thrown(c)).toMatchObject({ name: 'TributaryError', code: 'config.invalid' });
  });
});
