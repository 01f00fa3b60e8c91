import { spawn } from 'node:child_process';
import { describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/testing/index.js';
import { eventually } from '../helpers.js';

describe('examples/live-dashboard.ts', () => {
  it('runs under `tributary dev`, prints its chart URL, and its tap streams clicks per page as NDJSON', async () => {
    const e = inject('endpoints');
    const child = spawn(
      process.execPath,
      ['bin/tributary.js', 'dev', 'examples/live-dashboard.ts', '--duration-ms', '20000'],
      {
        env: {
          ...process.env,
          TRIBUTARY_DYNAMODB_ENDPOINT: e.dynamodb,
          TRIBUTARY_KINESIS_ENDPOINT: e.kinesis,
          AWS_REGION: 'us-east-1',
          TRIBUTARY_PORT: String(await freePort()),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await eventually(async () => /tap clicks-per-page: live chart (\S+)\/view/.test(stdout), 90_000, 'the chart URL');
      const base = /tap clicks-per-page: live chart (\S+)\/view/.exec(stdout)![1]!;
      expect((await fetch(`${base}/view`)).headers.get('content-type')).toContain('text/html');
      const res = await fetch(`${base}?format=ndjson`);
      const reader = res.body!.getReader();
      let text = '';
      const update = () =>
        text
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { type: string; key?: string; value?: { clicks: number; users: number } })
          .find((x) => x.type === 'update' && (x.value?.clicks ?? 0) > 0);
      while (!update()) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
      }
      await reader.cancel();
      const u = update()!;
      expect(['/', '/search', '/product', '/cart', '/checkout']).toContain(u.key);
      expect(u.value!.users).toBeGreaterThan(0);
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 150_000);
});
