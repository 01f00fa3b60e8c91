import { afterEach, describe, expect, it } from 'vitest';
import { isTributaryError } from '../../src/core/errors.js';
import { startEmulators } from '../../src/testing/emulators.js';

describe('startEmulators', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('quotes the output of an emulator that exits before it is ready', async () => {
    // A setting kinesis-mock cannot parse makes it exit at once with a configuration error.
    process.env.SHARD_LIMIT = 'not-a-number';
    delete process.env.TRIBUTARY_KINESIS_ENDPOINT;
    const failed = await startEmulators({ endpoints: { dynamodb: 'http://127.0.0.1:1' } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTributaryError(failed, 'testing.emulator'), String(failed)).toBe(true);
    const message = (failed as Error).message;
    expect(message).toMatch(/kinesis-mock exited \(\d+\)/);
    expect(message).toMatch(/its last output:\n/);
    expect(message).toContain('SHARD_LIMIT with value not-a-number cannot be converted to Int');
  });
});
