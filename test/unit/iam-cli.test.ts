import { afterEach, describe, expect, it, vi } from 'vitest';
import { main, parseCommand } from '../../src/cli/main.js';
import { iamPolicy } from '../../src/runtime/iam/policy.js';
import { tablePrefix } from '../../src/views/tables/naming.js';
import shop from '../../examples/shop.js';

describe('tributary iam: the command line', () => {
  it('parses the app, --prefix, --region and --account', () => {
    expect(parseCommand(['iam', 'examples/shop.ts'])).toEqual({
      name: 'iam',
      app: 'examples/shop.ts',
      flags: { prefix: undefined, region: undefined, account: undefined },
    });
    expect(
      parseCommand([
        'iam',
        'examples/shop.ts',
        '--prefix',
        'prod_',
        '--region',
        'eu-west-1',
        '--account',
        '123456789012',
      ]),
    ).toEqual({
      name: 'iam',
      app: 'examples/shop.ts',
      flags: { prefix: 'prod_', region: 'eu-west-1', account: '123456789012' },
    });
    expect(parseCommand(['iam', 'a.ts', '--region', '*', '--account', '*'])).toMatchObject({
      flags: { region: '*', account: '*' },
    });
  });

  it('refuses a region or account that cannot be in an ARN, a missing app and unknown flags (cli.usage)', () => {
    for (const argv of [
      ['iam', 'a.ts', '--region', 'Europe'],
      ['iam', 'a.ts', '--account', '1234'],
      ['iam'],
      ['iam', 'a.ts', 'b.ts'],
      ['iam', 'a.ts', '--json'],
    ])
      expect(() => parseCommand(argv), argv.join(' ')).toThrow(expect.objectContaining({ code: 'cli.usage' }));
  });
  describe('runs', () => {
    const out: string[] = [];
    const err: string[] = [];
    const capture = (into: string[]) => (chunk: unknown) => (into.push(String(chunk)), true);
    afterEach(() => {
      vi.restoreAllMocks();
      vi.unstubAllEnvs();
      out.length = err.length = 0;
    });

    it('printing the policy as JSON on stdout, and failing without a region as a usage error (exit 2)', async () => {
      vi.spyOn(process.stdout, 'write').mockImplementation(capture(out));
      vi.spyOn(process.stderr, 'write').mockImplementation(capture(err));
      expect(await main(['iam', 'examples/shop.ts', '--region', 'eu-west-1', '--prefix', 'prod_'])).toBe(0);
      expect(err).toEqual([]);
      expect(JSON.parse(out.join(''))).toEqual(
        iamPolicy(shop, { region: 'eu-west-1', tableName: tablePrefix('prod_').physical }).document,
      );
      vi.stubEnv('AWS_REGION', '');
      vi.stubEnv('AWS_DEFAULT_REGION', '');
      expect(await main(['iam', 'examples/shop.ts'])).toBe(2);
      expect(err.join('')).toMatch(/config\.noRegion: no AWS region for the policy's ARNs/);
    });
  });
});
