import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Runs `node bin/tributary.js dev <file> --duration-ms 12000` against the test run's emulators
 * (through the endpoint variables, so no second pair of emulators starts on a two-core machine).
 */
function dev(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const endpoints = inject('endpoints');
  const env: NodeJS.ProcessEnv = { ...process.env, TRIBUTARY_DYNAMODB_ENDPOINT: endpoints.dynamodb, TRIBUTARY_KINESIS_ENDPOINT: endpoints.kinesis, AWS_REGION: 'us-east-1' };
  const child = spawn(process.execPath, ['bin/tributary.js', 'dev', file, '--duration-ms', '12000'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** The report printed after the final progress line. */
function finalReport(stdout: string): string {
  const final = /^\[final\] records in (\d+), applied (\d+), dead letters (\d+)$/m.exec(stdout);
  expect(final, stdout).not.toBeNull();
  expect(Number(final![2])).toBeGreaterThan(0);
  expect(Number(final![3])).toBe(0);
  return stdout.slice(final!.index);
}

describe('examples', () => {
  it('examples/index-view.ts runs under `tributary dev`: the index matches its source, no-op modifies write nothing, the query helper reads base items', async () => {
    const run = await dev('examples/index-view.ts');
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
    const report = finalReport(run.stdout);
    expect(report).toMatch(/rows: albums_members [1-9]\d*, albums_by_user [1-9]\d*/);
    expect(report).toMatch(/index matches source: yes/);
    const writes = /view writes: (\d+) puts, (\d+) deletes; (\d+) modifies left the view unchanged \(no write\)/.exec(report);
    expect(writes, report).not.toBeNull();
    expect(Number(writes![1])).toBeGreaterThan(0);
    expect(Number(writes![3])).toBeGreaterThan(0);
    expect(report).toMatch(/u1's albums \(view \+ base items\): (none yet|a\d \w+ \(last seen (\d\d:\d\d:\d\d|gone)\))/);
    expect(report).toMatch(/dead letters: 0/);
  });

  it('examples/mirror.ts runs under `tributary dev`: both replicas, fed through the Kinesis bridge, match the source', async () => {
    const run = await dev('examples/mirror.ts');
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
    const report = finalReport(run.stdout);
    expect(report).toMatch(/rows: mirror_users [1-9]\d*/);
    expect(report).toMatch(/mirror_users_eu: \d+ live, \d+ tombstones; matches source: yes/);
    expect(report).toMatch(/mirror_users_us: \d+ live, \d+ tombstones; matches source: yes/);
    expect(report).toMatch(/mirror writes: [1-9]\d* applied, \d+ refused as stale or duplicate/);
    expect(report).toMatch(/dead letters: 0/);
  });
});
