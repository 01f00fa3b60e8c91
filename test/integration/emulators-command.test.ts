import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { EmulatorsReport } from '../../src/cli/emulators.js';
import { createClients, destroyClients } from '../../src/runtime/clients.js';
import { eventually, isAlive } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Starts `node bin/tributary.js emulators ...args`; killed by its pid if it outlives the test. */
function emulators(args: readonly string[]) {
  const env = { ...process.env };
  // Set by an outer run pointing at shared emulators: the command must start its own regardless.
  env.TRIBUTARY_DYNAMODB_ENDPOINT = 'http://127.0.0.1:1';
  env.TRIBUTARY_KINESIS_ENDPOINT = 'http://127.0.0.1:1';
  const child = spawn(process.execPath, ['bin/tributary.js', 'emulators', ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const guard = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => (clearTimeout(guard), resolve(code))),
  );
  return { child, out, exited };
}

describe('tributary emulators', () => {
  it('starts both emulators, prints their endpoints and pids as JSON, and stops them at SIGINT with exit 0', async () => {
    const run = emulators(['--json']);
    let report: EmulatorsReport | undefined;
    try {
      await eventually(
        async () => run.out.stdout.includes('\n') || run.child.exitCode !== null,
        120_000,
        'the JSON line',
      );
      expect(run.child.exitCode, run.out.stderr).toBeNull();
      report = JSON.parse(run.out.stdout.split('\n')[0]!) as EmulatorsReport;
      expect(report.dynamodb).not.toBe('http://127.0.0.1:1');
      expect(report.env).toEqual({
        TRIBUTARY_DYNAMODB_ENDPOINT: report.dynamodb,
        TRIBUTARY_KINESIS_ENDPOINT: report.kinesis,
      });
      expect(report.pids).toHaveLength(2);

      const clients = createClients({ dynamodbEndpoint: report.dynamodb, kinesisEndpoint: report.kinesis });
      try {
        expect((await clients.dynamodb.send(new ListTablesCommand({}))).TableNames).toEqual([]);
        expect((await clients.kinesis.send(new ListStreamsCommand({}))).StreamNames).toEqual([]);
      } finally {
        destroyClients(clients);
      }
      for (const pid of report.pids) expect(isAlive(pid), `emulator ${pid}`).toBe(true);

      run.child.kill('SIGINT');
      expect(await run.exited, run.out.stderr).toBe(0);
      for (const pid of report.pids) expect(isAlive(pid), `emulator ${pid} still running`).toBe(false);
      expect(run.out.stderr).toMatch(/SIGINT: stopping the emulators[\s\S]*emulators stopped\s*$/);
      // stdout held the one JSON line and nothing else.
      expect(run.out.stdout.trim().split('\n')).toHaveLength(1);
    } finally {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
      for (const pid of report?.pids ?? []) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('prints the endpoints and the variables to export for a person, and stops at SIGTERM', async () => {
    const run = emulators([]);
    const pids: number[] = [];
    try {
      await eventually(
        async () => /Ctrl-C stops them/.test(run.out.stdout) || run.child.exitCode !== null,
        120_000,
        'the endpoints',
      );
      const stdout = run.out.stdout;
      const dynamodb = /^export TRIBUTARY_DYNAMODB_ENDPOINT=(http:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout)?.[1];
      const kinesis = /^export TRIBUTARY_KINESIS_ENDPOINT=(http:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout)?.[1];
      expect(dynamodb, stdout).toBeDefined();
      expect(kinesis, stdout).toBeDefined();
      expect(stdout).toContain(`DynamoDB Local (with Streams)  ${dynamodb}`);
      expect(stdout).toContain(`kinesis-mock                   ${kinesis}`);
      pids.push(...(/^pids +(\d+) (\d+)$/m.exec(stdout) ?? []).slice(1).map(Number));
      expect(pids, stdout).toHaveLength(2);

      run.child.kill('SIGTERM');
      expect(await run.exited, run.out.stderr).toBe(0);
      for (const pid of pids) expect(isAlive(pid), `emulator ${pid} still running`).toBe(false);
      expect(run.out.stdout).toMatch(/emulators stopped\s*$/);
    } finally {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
      for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
