import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startEmulators } from '../../src/testing/emulators.js';
import { eventually, unique } from '../helpers.js';

const DEADLINE_MS = 3_000;
/** Room for a loaded 2-core machine on top of what the issue allows (the deadline plus 2 s). */
const LOAD_MARGIN_MS = 20_000;

describe('a stop deadline', () => {
  it.each(['owned', 'shared'])(
    'is a deadline: a runner stopped after DynamoDB died cancels its work and its process exits by itself (%s clients)',
    async (clients) => {
      // A DynamoDB Local of this test's own, since it is killed; Kinesis is not used.
      const emu = await startEmulators({
        endpoints: { dynamodb: undefined, kinesis: 'http://127.0.0.1:9' },
        startTimeoutMs: 120_000,
      });
      expect(emu.pids).toHaveLength(1);
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/integration/stop-deadline-child.ts'], {
        env: {
          ...process.env,
          TRIBUTARY_DYNAMODB_ENDPOINT: emu.endpoints.dynamodb,
          TRIBUTARY_KINESIS_ENDPOINT: emu.endpoints.kinesis,
          AWS_REGION: 'us-east-1',
          TRIBUTARY_LEASE_DURATION_MS: '2000',
          TRIBUTARY_LEASE_TAKE_INTERVAL_MS: '200',
          STOP_TABLE: unique('stop_sink'),
          STOP_APP: unique('stop'),
          STOP_DEADLINE_MS: String(DEADLINE_MS),
          STOP_CLIENTS: clients,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      try {
        await eventually(async () => out.includes('applying'), 120_000, 'records applied');
        process.kill(emu.pids[0]!, 'SIGKILL');
        await eventually(async () => err.includes('AWS call failed; retrying'), 60_000, 'the outage to be seen');
        child.kill('SIGTERM');
        const bound = DEADLINE_MS + 2_000 + LOAD_MARGIN_MS;
        const exit = await Promise.race([
          exited,
          new Promise<'still running'>((r) => setTimeout(() => r('still running'), bound).unref()),
        ]);
        expect(exit, err.split('\n').slice(-20).join('\n')).toEqual({ code: 0, signal: null });
        // It gave up at the deadline rather than finishing: the writes could not be made durable.
        expect(out).toContain('stopped runtime.shutdownDeadline');
      } finally {
        child.kill('SIGKILL');
        await emu.stop();
      }
    },
    300_000,
  );
});
