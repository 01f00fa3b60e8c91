import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface DevRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node bin/tributary.js dev <file> --duration-ms <ms>` in the repository root against the
 * test run's emulators (through the endpoint variables, so no second pair starts on a two-core
 * machine); killed if it outlives `timeoutMs`.
 */
export function runDev(file: string, durationMs: number, timeoutMs: number): Promise<DevRun> {
  const e = inject('endpoints');
  const env = {
    ...process.env,
    TRIBUTARY_DYNAMODB_ENDPOINT: e.dynamodb,
    TRIBUTARY_KINESIS_ENDPOINT: e.kinesis,
    AWS_REGION: 'us-east-1',
  };
  const child = spawn(process.execPath, ['bin/tributary.js', 'dev', file, '--duration-ms', String(durationMs)], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}
