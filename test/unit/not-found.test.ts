import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/errors.js';
import { isNotFound, rethrowMissing } from '../../src/core/not-found.js';

const sdkError = (name: string) => Object.assign(new Error(name), { name });
const missing = (cause: unknown) => new TributaryError('source.notFound', 'stream s does not exist', { cause });

describe('rethrowMissing', () => {
  it('turns a ResourceNotFoundException into the given error, the service error as its cause', async () => {
    const notFound = sdkError('ResourceNotFoundException');
    const e = await rethrowMissing(() => Promise.reject(notFound), missing).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TributaryError);
    expect((e as TributaryError).code).toBe('source.notFound');
    expect(isNotFound((e as TributaryError).cause)).toBe(true);
  });

  it('passes other errors through unchanged and returns what the call returns', async () => {
    const throttled = sdkError('ThrottlingException');
    await expect(rethrowMissing(() => Promise.reject(throttled), missing)).rejects.toBe(throttled);
    await expect(rethrowMissing(() => Promise.resolve(7), missing)).resolves.toBe(7);
    expect(isNotFound(throttled)).toBe(false);
    expect(isNotFound(undefined)).toBe(false);
  });
});
