import { describe, expect, it } from 'vitest';
import { runOnDriver, SCENARIOS } from '../example-scenarios.js';

/**
 * The example apps' tests (test/integration/examples-*.test.ts run them on the emulators, with
 * `tributary dev` and killed `tributary run` processes) on the in-memory test driver: the same
 * traffic and the same checks of each example's report, on the virtual clock.
 */
describe('the example apps on the test driver', () => {
  for (const s of SCENARIOS)
    it(s.title, async () => {
      const { failures, report } = await runOnDriver(s);
      expect(failures, report).toEqual([]);
    });
});
