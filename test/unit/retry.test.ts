import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/errors.js';
import { isThrottle, isTransient, retryUnprocessed, withRetry } from '../../src/core/retry.js';

const named = (name: string) => Object.assign(new Error(name), { name });
/** No waiting between attempts: full jitter under a zero ceiling. */
const quick = { baseMs: 0 } as const;

/** A call that fails with each of `errors` in turn, then returns 'ok'. */
const failing = (...errors: unknown[]) => {
  let calls = 0;
  const fn = async () => {
    const e = errors[calls++];
    if (e !== undefined) throw e;
    return 'ok';
  };
  return { fn, calls: () => calls };
};

describe('isTransient and isThrottle', () => {
  it('tells throttling, 5xx and network resets from errors that retrying cannot fix', () => {
    expect(isTransient(named('ProvisionedThroughputExceededException'))).toBe(true);
    expect(isTransient(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 503 } }))).toBe(true);
    expect(isTransient(named('ValidationException'))).toBe(false);
    expect(isTransient('not an error')).toBe(false);
    expect(isThrottle(named('ThrottlingException'))).toBe(true);
    expect(isThrottle(named('InternalServerError'))).toBe(false);
  });

  it("follows a TributaryError's retryable flag", () => {
    expect(isTransient(new TributaryError('table.notActive', 'not yet ACTIVE'))).toBe(true);
    expect(isTransient(new TributaryError('config.invalid', 'bad option'))).toBe(false);
  });
});

describe('withRetry', () => {
  it('retries transient errors until the call succeeds, telling onRetry of each', async () => {
    const f = failing(named('ThrottlingException'), named('InternalServerError'));
    const seen: [string, number][] = [];
    const out = await withRetry(f.fn, { ...quick, onRetry: (e, attempt) => seen.push([(e as Error).name, attempt]) });
    expect(out).toBe('ok');
    expect(seen).toEqual([
      ['ThrottlingException', 0],
      ['InternalServerError', 1],
    ]);
  });

  it('throws an error that is not retryable at once', async () => {
    const f = failing(named('ValidationException'));
    await expect(withRetry(f.fn, quick)).rejects.toThrow('ValidationException');
    expect(f.calls()).toBe(1);
  });

  it('retries a TributaryError marked retryable', async () => {
    const f = failing(new TributaryError('table.notActive', 'not yet'));
    await expect(withRetry(f.fn, quick)).resolves.toBe('ok');
    expect(f.calls()).toBe(2);
  });

  it('gives up after maxAttempts calls with the last error', async () => {
    const f = failing(named('ThrottlingException'), named('InternalServerError'), named('ThrottlingException'));
    await expect(withRetry(f.fn, { ...quick, maxAttempts: 2 })).rejects.toThrow('InternalServerError');
    expect(f.calls()).toBe(2);
  });

  it('retries what the predicate says, instead of transient errors', async () => {
    const f = failing(named('ConditionalCheckFailedException'), named('ThrottlingException'));
    const retryable = (e: unknown) => (e as Error).name === 'ConditionalCheckFailedException';
    await expect(withRetry(f.fn, { ...quick, retryable })).rejects.toThrow('ThrottlingException');
    expect(f.calls()).toBe(2);
  });

  it('stops retrying once its signal is aborted', async () => {
    const f = failing(named('ThrottlingException'), named('InternalServerError'), named('ThrottlingException'));
    const ac = new AbortController();
    // A wait of an hour that the abort cuts short: the test would time out if it did not.
    const p = withRetry(f.fn, { baseMs: 3_600_000, capMs: 3_600_000, signal: ac.signal, onRetry: () => ac.abort() });
    await expect(p).rejects.toThrow('InternalServerError');
    expect(f.calls()).toBe(2);
  });
});

describe('retryUnprocessed', () => {
  it('sends again what each round handed back until nothing is left', async () => {
    const rounds: number[][] = [];
    await retryUnprocessed(
      [1, 2, 3, 4],
      async (pending) => {
        rounds.push(pending);
        return pending.slice(0, pending.length - 2);
      },
      quick,
    );
    expect(rounds).toEqual([
      [1, 2, 3, 4],
      [1, 2],
    ]);
  });

  it('sends nothing when there is nothing, and passes errors through', async () => {
    let calls = 0;
    await retryUnprocessed([], async () => void calls++);
    expect(calls).toBe(0);
    await expect(
      retryUnprocessed([1], async () => Promise.reject(named('ValidationException')), quick),
    ).rejects.toThrow('ValidationException');
  });
});
