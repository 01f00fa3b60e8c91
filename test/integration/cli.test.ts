import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { RedriveOutcome } from '../../src/runtime/redrive.js';
import type { StoredDeadLetter } from '../../src/sinks/dead-letter-entries.js';
import { deadLetterId, DeadLetterTable } from '../../src/sinks/dead-letters.js';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ShardStatus } from '../../src/cli/status.js';
import { Runner } from '../../src/index.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { describeCheckpoint } from '../../src/runtime/leases/lease.js';
import { LeaseTable } from '../../src/runtime/leases/table.js';
import { createStream, createTable, scanAll } from '../../src/testing/tables.js';
import { redriveApp } from '../fixtures/redrive-app.js';
import { fixtureApp, type FixtureNames } from '../fixtures/status-app.js';
import { eventually, fastRunner, testClients, unique, isAlive } from '../helpers.js';

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
  // Test files run side by side: no HTTP server on the default port unless a test asks for one.
  const merged: NodeJS.ProcessEnv = { ...process.env, TRIBUTARY_LOG_LEVEL: 'info', TRIBUTARY_PORT: '0', ...env };
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

  it('run of an app whose table writer table is missing exits 1 naming the table', async () => {
    const missing = unique('cli_no_such_sink');
    const r = cli(['run', FIXTURE], { ...env, FIXTURE_APP: unique('cli_nosink'), FIXTURE_SINK: missing });
    expect(await r.exited, r.stderr()).toBe(1);
    expect(r.stderr()).toMatch(/sink\.tableMissing/);
    expect(r.stderr()).toContain(`table writer: table '${missing}' does not exist`);
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

describe('tributary dead-letters', () => {
  const clients = testClients();
  const endpoints = inject('endpoints');
  const names = { app: unique('cli_redrive'), stream: unique('cli_redrive_in'), sink: unique('cli_redrive_out') };
  const env = {
    TRIBUTARY_DYNAMODB_ENDPOINT: endpoints.dynamodb,
    TRIBUTARY_KINESIS_ENDPOINT: endpoints.kinesis,
    AWS_REGION: 'us-east-1',
    FIXTURE_APP: names.app,
    FIXTURE_STREAM: names.stream,
    FIXTURE_SINK: names.sink,
  };
  const APP = 'test/fixtures/redrive-app.ts';
  const dlTable = `${names.app}_dead_letters`;
  const entries = () => scanAll<StoredDeadLetter>(clients.dynamodb, dlTable);
  afterAll(() => destroyClients(clients));

  it('lists entries, redrives them after a fix, marks those that apply and keeps the new reason of the others', async () => {
    await createStream(clients.kinesis, names.stream, 1);
    await createTable(clients.dynamodb, { name: names.sink, partitionKey: { name: 'id', type: 'S' } });
    // n 1..15 and 100; the app rejects n over 10; one payload is not JSON (rejected by decoding).
    const values = [...Array.from({ length: 15 }, (_, i) => i + 1), 100];
    await clients.kinesis.send(
      new PutRecordsCommand({
        StreamName: names.stream,
        Records: [
          ...values.map((n) => ({ PartitionKey: `k${n % 3}`, Data: Buffer.from(JSON.stringify({ id: `r${n}`, n })) })),
          { PartitionKey: 'k0', Data: Buffer.from('{not json') },
        ],
      }),
    );
    const runner = new Runner(redriveApp(names, 10), { ...fastRunner, clients });
    await runner.start();
    try {
      await eventually(async () => (await entries()).length === 7, 60_000, '6 rejected records and 1 undecodable');
      await eventually(
        async () => (await scanAll(clients.dynamodb, names.sink)).length === 10,
        30_000,
        'records up to the limit applied',
      );
    } finally {
      expect((await runner.stop()).error).toBeUndefined();
    }
    // Entries a redrive cannot use: a record too large for an entry, which the table cuts (truncated),
    // and a minimal entry (no record: DynamoDB refused the full one).
    const position = (seq: string) => ({ source: names.stream, shardId: 'shardId-000000000000', sequenceNumber: seq });
    const [cutId, minimalId] = [deadLetterId(position('1')), deadLetterId(position('2'))];
    const big = JSON.stringify({ type: 'kinesis', value: { id: 'big', n: 1, pad: 'x'.repeat(500_000) } });
    await new DeadLetterTable(clients.dynamodb, dlTable).write([
      {
        app: names.app,
        pipeline: 'limited',
        stage: 'pipeline',
        code: 'Error',
        message: 'cut',
        position: position('1'),
        record: big,
      },
    ]);
    const minimal = { app: names.app, pipeline: 'limited', id: minimalId, position: position('2'), code: 'Error' };
    await clients.dynamodb.send(
      new PutItemCommand({
        TableName: dlTable,
        Item: marshall({
          ...minimal,
          message: 'refused',
          minimal: true,
          entryError: 'refused',
          at: new Date().toISOString(),
        }),
      }),
    );

    const listed = cli(['dead-letters', 'list', APP, '--json'], env);
    expect(await listed.exited, listed.stderr()).toBe(0);
    const rows = JSON.parse(listed.stdout()) as (StoredDeadLetter & { redrivable: boolean })[];
    expect(rows).toHaveLength(9);
    expect(
      rows
        .filter((r) => r.redrivable)
        .map((r) => JSON.parse(r.record!).value.n as number)
        .sort((a, b) => a - b),
    ).toEqual([11, 12, 13, 14, 15, 100]);
    expect(
      rows
        .filter((r) => !r.redrivable)
        .map((r) => r.id)
        .sort(),
    ).toEqual([rows.find((r) => r.pipeline.startsWith('source:'))!.id, minimalId, cutId].sort());
    const table = cli(['dead-letters', 'list', APP], env);
    expect(await table.exited, table.stderr()).toBe(0);
    expect(table.stdout()).toMatch(/^PIPELINE\s+POSITION\s+AT\s+CODE\s+STATE\s+REASON$/m);
    const line = (id: string) =>
      table
        .stdout()
        .split('\n')
        .find((l) => l.includes(id)) ?? '';
    expect(line(cutId)).toMatch(
      /kept: the record was truncated to fit in the entry \(\d+ bytes, sha256 [0-9a-f]{64}\)/,
    );
    expect(line(minimalId)).toMatch(/kept: minimal entry: the record was not stored \(refused\)/);
    expect(table.stdout()).toMatch(/pending\s+n 100 is over the limit 10$/m);

    // Filters: another pipeline, or a time after every entry, list nothing; a duration lists all.
    for (const [flags, count] of [
      [['--pipeline', 'nope'], 0],
      [['--since', new Date(Date.now() + 60_000).toISOString()], 0],
      [['--since', '1h', '--pipeline', 'limited'], 8],
    ] as const) {
      const r = cli(['dead-letters', 'list', APP, '--json', ...flags], env);
      expect(await r.exited, r.stderr()).toBe(0);
      expect(JSON.parse(r.stdout()), flags.join(' ')).toHaveLength(count);
    }

    // The fix: the limit goes up to 50. 11..15 apply; 100 fails again, with the new reason.
    const redrive = cli(['dead-letters', 'redrive', APP, '--json', '--pipeline', 'limited'], {
      ...env,
      FIXTURE_LIMIT: '50',
    });
    expect(await redrive.exited, redrive.stderr()).toBe(1);
    const outcomes = JSON.parse(redrive.stdout()) as RedriveOutcome[];
    expect(outcomes.filter((o) => o.result === 'applied')).toHaveLength(5);
    expect(outcomes.filter((o) => o.result === 'failed')).toEqual([
      expect.objectContaining({ code: 'Error', message: 'n 100 is over the limit 50' }),
    ]);
    expect(
      outcomes
        .filter((o) => o.result === 'kept')
        .map((o) => o.id)
        .sort(),
    ).toEqual([minimalId, cutId].sort());

    const sink = await scanAll<{ id: string; n: number }>(clients.dynamodb, names.sink);
    expect(sink.map((r) => r.n).sort((a, b) => a - b)).toEqual(values.filter((n) => n <= 15));
    const after = await entries();
    expect(after).toHaveLength(9);
    const byN = (n: number) => after.find((e) => e.record?.includes(`"n":${n}`) && e.pipeline === 'limited')!;
    for (const n of [11, 12, 13, 14, 15]) expect(byN(n).redrivenAt, `r${n}`).toMatch(/^\d{4}-/);
    expect(byN(100).redrivenAt).toBeUndefined();
    expect(byN(100).message).toBe('n 100 is over the limit 50');

    // A second redrive leaves the redriven entries alone and tries only what is still pending.
    const again = cli(['dead-letters', 'redrive', APP], { ...env, FIXTURE_LIMIT: '500' });
    expect(await again.exited, again.stderr()).toBe(0);
    expect(again.stdout()).toMatch(/^redriven 1, failed again 0, not redrivable 3$/m);
    expect((await scanAll(clients.dynamodb, names.sink)).length).toBe(16);
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

  it('an unreachable endpoint is one line naming the service and the endpoint, exit 1; the stack only at debug level', async () => {
    const env = { TRIBUTARY_DYNAMODB_ENDPOINT: 'http://127.0.0.1:1', AWS_REGION: 'us-east-1' };
    const r = cli(['status', FIXTURE], env);
    expect(await r.exited, r.stderr()).toBe(1);
    expect(r.stderr()).toBe(
      'tributary: service.unreachable: DynamoDB at http://127.0.0.1:1 did not answer DescribeTable (ECONNREFUSED); check TRIBUTARY_DYNAMODB_ENDPOINT\n',
    );
    const debug = cli(['status', FIXTURE], { ...env, TRIBUTARY_LOG_LEVEL: 'debug' });
    expect(await debug.exited).toBe(1);
    expect(debug.stderr()).toMatch(/^tributary: service\.unreachable: DynamoDB at http:\/\/127\.0\.0\.1:1 .*\n/);
    expect(debug.stderr()).toMatch(/\n\s+at .+/);
    // run logs JSON lines; its start failure names the service and the endpoint too.
    const run = cli(['run', FIXTURE], { ...env, TRIBUTARY_KINESIS_ENDPOINT: 'http://127.0.0.1:1' });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(
      /"code":"service\.unreachable".*"msg":"runner could not start"|"msg":"runner could not start".*"code":"service\.unreachable"/,
    );
    expect(run.stderr()).toContain('DynamoDB at http://127.0.0.1:1 did not answer');
  });

  it('a missing region is a usage error naming AWS_REGION, unless an endpoint is overridden', async () => {
    const none = {
      AWS_REGION: undefined,
      AWS_DEFAULT_REGION: undefined,
      TRIBUTARY_DYNAMODB_ENDPOINT: undefined,
      TRIBUTARY_KINESIS_ENDPOINT: undefined,
    };
    const r = cli(['status', FIXTURE], none);
    expect(await r.exited, r.stderr()).toBe(2);
    expect(r.stderr()).toMatch(/^tributary: config\.noRegion: no AWS region: set AWS_REGION/);
    // With an endpoint override the region is not needed: the call is made (and here refused).
    const local = cli(['status', FIXTURE], { ...none, TRIBUTARY_DYNAMODB_ENDPOINT: 'http://127.0.0.1:1' });
    expect(await local.exited).toBe(1);
    expect(local.stderr()).toMatch(/service\.unreachable/);
  });

  it('exits 1 when the module exports no app', async () => {
    const r = cli(['status', 'src/core/time.ts']);
    expect(await r.exited).toBe(1);
    expect(r.stderr()).toMatch(
      /config\.invalid: src\/core\/time\.ts must `export default app.*default export is missing/,
    );
  });
});
