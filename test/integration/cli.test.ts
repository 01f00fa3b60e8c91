import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { marshall } from '@aws-sdk/util-dynamodb';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ShardStatus } from '../../src/cli/status.js';
import { Runner } from '../../src/index.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { describeCheckpoint } from '../../src/runtime/leases/lease.js';
import { LeaseTable } from '../../src/runtime/leases/table.js';
import { createStream, createTable, scanAll } from '../../src/testing/tables.js';
import { fixtureApp, type FixtureNames } from '../fixtures/status-app.js';
import { eventually, fastRunner, testClients, unique } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = 'test/fixtures/status-app.ts';

interface Cli {
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves once the output matches, or rejects after `timeoutMs`. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  readonly exited: Promise<number | null>;
}

/** Starts `node bin/tributary.js ...args` in the repository root; it is killed if it outlives `timeoutMs`. */
function cli(args: readonly string[], env: Record<string, string | undefined> = {}, timeoutMs = 60_000): Cli {
  const merged: NodeJS.ProcessEnv = { ...process.env, TRIBUTARY_LOG_LEVEL: 'info', ...env };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  const child = spawn(process.execPath, ['bin/tributary.js', ...args], {
    cwd: ROOT,
    env: merged,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => (clearTimeout(timer), resolve(code))),
  );
  return {
    pid: child.pid!,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    waitFor: (stream, pattern, ms = 60_000) =>
      eventually(async () => pattern.test(out[stream]), ms, `${pattern} on ${stream}`),
    kill: (signal) => child.kill(signal),
    exited,
  };
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('tributary dev', () => {
  it('runs the shop example on its own emulators, prints progress and the report, exits 0 and leaves no emulator behind', async () => {
    // Endpoints unset: dev must start (and stop) emulators of its own.
    const run = cli(
      ['dev', 'examples/shop.ts', '--duration-ms', '15000'],
      { TRIBUTARY_DYNAMODB_ENDPOINT: undefined, TRIBUTARY_KINESIS_ENDPOINT: undefined },
      120_000,
    );
    const code = await run.exited;
    const stdout = run.stdout();
    expect(code, `stdout:\n${stdout}\nstderr:\n${run.stderr()}`).toBe(0);

    const pids = /^emulators: pids (\d+) (\d+)/m.exec(stdout);
    expect(pids, stdout).not.toBeNull();
    for (const pid of [Number(pids![1]), Number(pids![2])])
      expect(isAlive(pid), `emulator pid ${pid} still running`).toBe(false);

    const final = /^\[final\] records in (\d+), applied (\d+), dead letters (\d+)$/m.exec(stdout);
    expect(final, stdout).not.toBeNull();
    expect(Number(final![2])).toBeGreaterThan(0);
    // Nothing lost: the traffic includes clicks that fail the schema; they are counted in and dead-lettered.
    expect(Number(final![3])).toBeGreaterThan(0);
    expect(Number(final![2]) + Number(final![3])).toBe(Number(final![1]));
    // The report follows the final line: rows of each view, the index sample, dead letters by reason.
    const report = stdout.slice(final!.index);
    expect(report).toMatch(/rows: shop_orders \d+, shop_orders_by_customer [1-9]\d*, shop_page_last_click [1-9]\d*/);
    expect(report).toMatch(/customer c1's orders \(from the index\): /);
    expect(report).toMatch(/dead letters: \d+/);
    expect(stdout).toMatch(/emulators stopped\s*$/);
  });
});

describe('tributary status and run', () => {
  const clients = testClients();
  const endpoints = inject('endpoints');
  const names: FixtureNames = {
    app: unique('cli_app'),
    table: unique('cli_items'),
    sink: unique('cli_copies'),
    stream: unique('cli_events'),
  };
  const env = {
    TRIBUTARY_DYNAMODB_ENDPOINT: endpoints.dynamodb,
    TRIBUTARY_KINESIS_ENDPOINT: endpoints.kinesis,
    AWS_REGION: 'us-east-1',
    FIXTURE_APP: names.app,
    FIXTURE_TABLE: names.table,
    FIXTURE_SINK: names.sink,
    FIXTURE_STREAM: names.stream,
  };
  const leases = new LeaseTable(clients.dynamodb, `${names.app}_leases`);
  const expected = async () =>
    (await leases.list())
      .map((l) => ({ source: l.source, shard: l.shardId, checkpoint: describeCheckpoint(l.checkpoint) }))
      .sort((a, b) => `${a.source}/${a.shard}`.localeCompare(`${b.source}/${b.shard}`));

  beforeAll(async () => {
    await createTable(clients.dynamodb, {
      name: names.table,
      partitionKey: { name: 'id', type: 'S' },
      stream: 'NEW_AND_OLD_IMAGES',
    });
    await createTable(clients.dynamodb, { name: names.sink, partitionKey: { name: 'id', type: 'S' } });
    await createStream(clients.kinesis, names.stream, 2);
  });
  afterAll(() => destroyClients(clients));

  it('status lists every shard with its owner and checkpoint, as JSON and as a table', async () => {
    const runner = new Runner(fixtureApp(names), { ...fastRunner, clients });
    await runner.start();
    try {
      for (let i = 0; i < 5; i++)
        await clients.dynamodb.send(
          new PutItemCommand({ TableName: names.table, Item: marshall({ id: `i${i}`, n: i }) }),
        );
      await clients.kinesis.send(
        new PutRecordsCommand({
          StreamName: names.stream,
          Records: Array.from({ length: 8 }, (_, i) => ({
            PartitionKey: `k${i}`,
            Data: Buffer.from(JSON.stringify({ id: `e${i}` })),
          })),
        }),
      );
      await eventually(
        async () => (await scanAll(clients.dynamodb, names.sink)).length === 13,
        60_000,
        'all 13 copies',
      );
      await eventually(
        async () => {
          const cps = await expected();
          return [names.table, names.stream].every((s) => cps.some((c) => c.source === s && /^\d+/.test(c.checkpoint)));
        },
        60_000,
        'a sequence checkpoint on both sources',
      );

      const running = cli(['status', FIXTURE, '--json'], env);
      expect(await running.exited, running.stderr()).toBe(0);
      const rows = JSON.parse(running.stdout()) as ShardStatus[];
      expect(rows.map((r) => `${r.source}/${r.shard}`)).toEqual(
        (await expected()).map((e) => `${e.source}/${e.shard}`),
      );
      expect(rows.filter((r) => r.source === names.stream)).toHaveLength(2);
      expect(rows.every((r) => r.owner === runner.workerId)).toBe(true);
    } finally {
      expect((await runner.stop()).error).toBeUndefined();
    }

    // Stopped: leases released, checkpoints final.
    const want = await expected();
    const stopped = cli(['status', FIXTURE, '--json'], env);
    expect(await stopped.exited, stopped.stderr()).toBe(0);
    const rows = JSON.parse(stopped.stdout()) as ShardStatus[];
    expect(rows.map((r) => ({ source: r.source, shard: r.shard, checkpoint: r.checkpoint }))).toEqual(want);
    expect(rows.every((r) => r.owner === null)).toBe(true);
    expect(rows.filter((r) => /^\d+/.test(r.checkpoint)).every((r) => r.updatedAt !== null)).toBe(true);

    const table = cli(['status', FIXTURE], env);
    expect(await table.exited, table.stderr()).toBe(0);
    const lines = table.stdout().trimEnd().split('\n');
    expect(lines[1]).toMatch(/^SOURCE\s+SHARD\s+OWNER\s+CHECKPOINT\s+UPDATED AT\s+BEHIND$/);
    for (const w of want)
      expect(
        lines.some(
          (l) => l.startsWith(w.source) && l.includes(w.shard) && l.includes(` - `) && l.includes(w.checkpoint),
        ),
      ).toBe(true);
  });

  it('status of an app that never ran says so and exits 1', async () => {
    const r = cli(['status', FIXTURE], { ...env, FIXTURE_APP: unique('never_ran') });
    expect(await r.exited).toBe(1);
    expect(r.stderr()).toMatch(/lease table '.*_leases' does not exist/);
  });

  it('run takes the leases, stops gracefully on SIGTERM, releases them and exits 0', async () => {
    const worker = unique('cli_worker');
    const run = cli(['run', FIXTURE, '--worker-id', worker, '--shutdown-deadline-ms', '20000'], env);
    await run.waitFor('stderr', /"msg":"shard started"/, 60_000);
    await eventually(
      async () => {
        const all = await leases.list();
        return all.length >= 3 && all.every((l) => l.owner === worker);
      },
      60_000,
      'run to hold every lease',
    );
    run.kill('SIGTERM');
    expect(await run.exited, run.stderr()).toBe(0);
    expect(run.stderr()).toMatch(/"msg":"runner stopped"/);
    expect((await leases.list()).filter((l) => l.owner === worker)).toEqual([]);
  });
});

describe('tributary usage errors', () => {
  it('exits 2 with the usage on an unknown command, a bad flag or a missing app file', async () => {
    for (const args of [
      ['frobnicate'],
      ['dev', 'examples/shop.ts', '--duration-ms', 'soon'],
      ['status', 'no/such/app.ts'],
    ]) {
      const r = cli(args);
      expect(await r.exited, args.join(' ')).toBe(2);
      expect(r.stderr()).toMatch(/Usage: tributary <command>/);
    }
  });

  it('exits 1 when the module exports no app', async () => {
    const r = cli(['status', 'src/core/time.ts']);
    expect(await r.exited).toBe(1);
    expect(r.stderr()).toMatch(
      /config\.invalid: src\/core\/time\.ts must `export default app.*default export is missing/,
    );
  });
});
