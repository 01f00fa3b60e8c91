import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/observe/metrics.js';
import { OutageReporter } from '../../src/observe/outage-reporter.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { keptLog } from '../helpers.js';

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
const put = { service: 'DynamoDBClient', endpoint: 'http://127.0.0.1:1', operation: 'PutItemCommand' };
const scan = { ...put, operation: 'ScanCommand' };

describe('OutageReporter', () => {
  it('warns at the first failed attempt, then at most once per 30 s with the count, and at info on recovery', async () => {
    const clock = new ManualClock();
    const log = keptLog();
    const metrics = new Metrics();
    const outages = new OutageReporter({ log, metrics, clock });

    outages.failed(put, refused);
    expect(log.lines).toEqual([
      { level: 'warn', msg: 'AWS call failed; retrying', fields: { ...put, error: refused } },
    ]);

    for (let i = 0; i < 5; i++) {
      await clock.advance(5_000);
      outages.failed(put, refused);
    }
    expect(log.lines).toHaveLength(1);

    await clock.advance(5_000);
    outages.failed(put, refused);
    expect(log.lines).toHaveLength(2);
    expect(log.lines[1]).toMatchObject({
      level: 'warn',
      msg: 'AWS call still failing',
      fields: { ...put, failedAttempts: 6, failingForMs: 30_000 },
    });

    outages.failed(put, refused);
    expect(log.lines).toHaveLength(2);

    outages.succeeded(put);
    outages.succeeded(put);
    expect(log.lines.slice(2)).toEqual([
      {
        level: 'info',
        msg: 'AWS call recovered',
        fields: { ...put, failedAttempts: 8, failedForMs: 30_000, lastError: 'ECONNREFUSED' },
      },
    ]);
    expect(
      await metrics.get('tributary_aws_failed_attempts_total', {
        service: 'DynamoDBClient',
        operation: 'PutItemCommand',
        error: 'ECONNREFUSED',
      }),
    ).toBe(8);
  });

  it('keeps one window per endpoint and operation', () => {
    const clock = new ManualClock();
    const log = keptLog();
    const outages = new OutageReporter({ log, metrics: new Metrics(), clock });
    outages.failed(put, refused);
    outages.failed(scan, refused);
    outages.failed({ ...put, endpoint: 'http://127.0.0.1:2' }, refused);
    expect(log.lines.map((l) => [l.level, l.fields.operation, l.fields.endpoint])).toEqual([
      ['warn', 'PutItemCommand', 'http://127.0.0.1:1'],
      ['warn', 'ScanCommand', 'http://127.0.0.1:1'],
      ['warn', 'PutItemCommand', 'http://127.0.0.1:2'],
    ]);
    outages.succeeded(scan);
    expect(log.lines[3]).toMatchObject({ level: 'info', fields: { operation: 'ScanCommand', failedAttempts: 1 } });
  });
});
