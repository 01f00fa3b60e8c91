import { afterEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/errors.js';
import { jsonLogger, type JsonLoggerOptions } from '../../src/observe/log.js';

/** A logger whose lines are kept, parsed. */
function capture(opts: Omit<JsonLoggerOptions, 'destination'> = {}) {
  const lines: string[] = [];
  const log = jsonLogger({ ...opts, destination: { write: (s: string) => void lines.push(s) } });
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('jsonLogger', () => {
  const saved = process.env.TRIBUTARY_LOG_LEVEL;
  afterEach(() => {
    if (saved === undefined) delete process.env.TRIBUTARY_LOG_LEVEL;
    else process.env.TRIBUTARY_LOG_LEVEL = saved;
  });

  it('writes one JSON object per line: level name, ISO time, child and call fields, message', () => {
    const { log, lines, parsed } = capture({ level: 'info' });
    log
      .child({ app: 'shop' })
      .warn('lease lost', { leaseKey: 'k', error: new TributaryError('table.notActive', 'gone') });
    log.debug('not written');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    const [line] = parsed();
    expect(line).toMatchObject({
      level: 'warn',
      app: 'shop',
      leaseKey: 'k',
      msg: 'lease lost',
      error: { name: 'TributaryError', message: 'gone', code: 'table.notActive' },
    });
    expect(new Date(line!.time as string).toISOString()).toBe(line!.time);
  });

  it('redacts credentials wherever a line carries them, in fields and in child bindings', () => {
    const { log, lines } = capture();
    log.info('client config', {
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET },
      config: { region: 'eu-west-1', secretAccessKey: SECRET, sessionToken: SECRET },
      request: { headers: { authorization: `AWS4-HMAC-SHA256 Signature=${SECRET}`, 'x-amz-security-token': SECRET } },
    });
    log.child({ aws: { credentials: { secretAccessKey: SECRET } }, secretAccessKey: SECRET }).warn('retrying');
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).not.toContain(SECRET);
    expect(lines.join('')).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(JSON.parse(lines[0]!)).toMatchObject({
      credentials: '[redacted]',
      config: { region: 'eu-west-1', secretAccessKey: '[redacted]', sessionToken: '[redacted]' },
      request: { headers: { authorization: '[redacted]', 'x-amz-security-token': '[redacted]' } },
    });
  });

  it('redacts the extra paths a user configures', () => {
    const { log, parsed } = capture({ redact: ['order.card.number', '*.apiKey'] });
    log.info('order', { order: { id: 'o1', card: { number: '4111111111111111' } }, partner: { apiKey: 'k-123' } });
    expect(parsed()[0]).toMatchObject({
      order: { id: 'o1', card: { number: '[redacted]' } },
      partner: { apiKey: '[redacted]' },
    });
  });

  it('takes its level from TRIBUTARY_LOG_LEVEL and rejects an unknown one', () => {
    process.env.TRIBUTARY_LOG_LEVEL = 'error';
    const { log, parsed } = capture();
    log.warn('dropped');
    log.error('kept');
    expect(parsed().map((l) => l.msg)).toEqual(['kept']);
    process.env.TRIBUTARY_LOG_LEVEL = 'verbose';
    expect(() => capture()).toThrow(expect.objectContaining({ code: 'config.invalid' }));
  });
});
