import { spawn, type ChildProcess } from 'node:child_process';
import { inject } from 'vitest';

/** A tributary app running in a child process through the CLI, as a user would run it. */
export interface AppProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What the process wrote to stderr (JSON log lines). */
  stderr(): string;
}

export function runApp(appFile: string, env: Record<string, string>, args: readonly string[] = []): AppProcess {
  const e = inject('endpoints');
  const child = spawn(process.execPath, ['bin/tributary.js', 'run', appFile, ...args], {
    env: {
      ...process.env,
      TRIBUTARY_DYNAMODB_ENDPOINT: e.dynamodb,
      TRIBUTARY_KINESIS_ENDPOINT: e.kinesis,
      AWS_REGION: 'us-east-1',
      TRIBUTARY_LEASE_DURATION_MS: '2000',
      TRIBUTARY_LEASE_TAKE_INTERVAL_MS: '200',
      TRIBUTARY_DISCOVERY_INTERVAL_MS: '500',
      // Many workers run at once in the tests: no HTTP server unless a test asks for a port.
      TRIBUTARY_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, stderr: () => err };
}
