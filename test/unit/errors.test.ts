import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, TributaryError, type ErrorCode } from '../../src/core/errors.js';
import { app, pipeline } from '../../src/core/pipeline.js';
import { parseDuration } from '../../src/core/time.js';
import { memorySource } from '../../src/testing/memory-source.js';
import { thrown } from '../helpers.js';

const root = join(import.meta.dirname, '../..');

/** The rows of the README's "Errors" table, as `[code, fault, retryable, meaning]`. */
function readmeErrorRows(): string[][] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Errors\n'));
  if (!section) throw new Error('README.md has no "## Errors" section');
  return section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) =>
      l
        .slice(1, -1)
        .split(' | ')
        .map((c) => c.trim()),
    );
}

/**
 * Everything a serializer (a logger, a test runner's report) can reach of a value, but for stack
 * frames: their length follows where the checkout lives, not what the error keeps.
 */
const printAll = (v: unknown): string =>
  inspect(v, { showHidden: true, depth: null, maxStringLength: null }).replace(/^\s+at .*$/gm, '');

/** A DynamoDB error as the SDK builds it, with the HTTP response the SDK attaches (here 60 KB of body). */
function sdkNotFound(): ResourceNotFoundException {
  const e = new ResourceNotFoundException({
    message: 'Cannot do operations on a non-existent table',
    $metadata: { httpStatusCode: 400, requestId: 'REQ-1234', attempts: 1, totalRetryDelay: 0 },
  });
  Object.defineProperty(e, '$response', {
    value: { statusCode: 400, headers: { 'x-amzn-requestid': 'REQ-1234' }, body: 'x'.repeat(60_000) },
    enumerable: false,
  });
  return e;
}

describe('error codes', () => {
  it('are the rows of the README "Errors" table, in order, with the same fault, retryability and meaning', () => {
    const expected = Object.entries(ERROR_CODES).map(([code, i]) => [
      `\`${code}\``,
      i.fault,
      i.retryable ? 'yes' : 'no',
      i.meaning,
    ]);
    expect(readmeErrorRows()).toEqual(expected);
  });

  it('are each raised or reported somewhere in src: no code is listed that nothing uses', () => {
    const src = join(root, 'src');
    const text = readdirSync(src, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && f !== join('core', 'errors.ts'))
      .map((f) => readFileSync(join(src, f), 'utf8'))
      .join('\n');
    const unused = Object.keys(ERROR_CODES).filter((code) => !text.includes(`'${code}'`));
    expect(unused).toEqual([]);
  });

  it('give every TributaryError the fault and retryability of its code', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const e = new TributaryError(code, 'x');
      expect({ fault: e.fault, retryable: e.retryable }).toEqual({
        fault: ERROR_CODES[code].fault,
        retryable: ERROR_CODES[code].retryable,
      });
    }
  });
});

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

describe('a cause from the AWS SDK', () => {
  it('prints small, without the HTTP response, and still names the error, its status and request id', () => {
    const cause = sdkNotFound();
    // Without the summary, everything a serializer can reach of the cause is over 60 KB.
    expect(printAll(cause).length).toBeGreaterThan(60_000);
    const err = new TributaryError('view.tableMissing', "table 'orders_by_customer' does not exist", { cause });
    const printed = printAll(err);
    expect(printed.length).toBeLessThan(4_000);
    expect(printed).toContain('ResourceNotFoundException: Cannot do operations on a non-existent table');
    expect(printed).toContain('REQ-1234');
    expect(err.cause).toBeInstanceOf(ResourceNotFoundException);
    expect(err.cause).toMatchObject({
      name: 'ResourceNotFoundException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400, requestId: 'REQ-1234' },
    });
    expect(Object.getOwnPropertyNames(err.cause)).not.toContain('$response');
  });

  it('is kept as it is when it is not an SDK error', () => {
    const user = Object.assign(new Error('boom'), { issues: [{ path: ['a'] }] });
    expect(new TributaryError('runtime.failFast', 'x', { cause: user }).cause).toBe(user);
    expect(new TributaryError('runtime.failFast', 'x', { cause: 'text' }).cause).toBe('text');
  });
});
