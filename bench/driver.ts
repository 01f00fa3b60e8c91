import { DeleteStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clients } from '../src/core/clients.js';
import type { AppDef } from '../src/core/pipeline.js';
import { silentLogger } from '../src/observe/log.js';
import { createClients, destroyClients } from '../src/runtime/clients.js';
import { Runner } from '../src/runtime/runner.js';
import type { TapEvent } from '../src/taps/events.js';
import { startEmulators, type Endpoints } from '../src/testing/emulators.js';
import { createAppTables, waitCaughtUp } from '../src/testing/index.js';
import { tablePrefix } from '../src/views/tables/naming.js';
import { loadExample, runOnDriver, SCENARIOS, TRAFFIC_MS, type Scenario } from '../test/example-scenarios.js';
import { fresh } from './lib/emulators.js';
import { fmt, progress, type Benchmark, type BenchResult, type ResultRow } from './lib/report.js';

/**
 * The runner settings of the emulator tests (the README's, and `test/integration/app-process.ts`
 * for killed processes), so that they do not sit out default lease and discovery rounds. The
 * driver runs the app's defaults: its time is virtual.
 */
const SETTINGS = { leaseTakeIntervalMs: 200, discoveryIntervalMs: 500 } as const;
const PROCESS_ENV = {
  TRIBUTARY_LEASE_DURATION_MS: '2000',
  TRIBUTARY_LEASE_TAKE_INTERVAL_MS: '200',
  TRIBUTARY_DISCOVERY_INTERVAL_MS: '500',
  TRIBUTARY_PORT: '0',
};

const elapsed = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;

/** Deletes the example's Kinesis streams, so that its run reads only its own records (stream names take no prefix). */
async function dropStreams(clients: Clients, app: AppDef): Promise<void> {
  const exists = (name: string) =>
    clients.kinesis
      .send(new DescribeStreamSummaryCommand({ StreamName: name }))
      .then(() => true)
      .catch((e: Error) => (e.name === 'ResourceNotFoundException' ? false : Promise.reject(e)));
  for (const s of app.dev?.streams ?? []) {
    // Only a stream that exists: kinesis-mock, asked to delete a missing stream, then ignores its creation.
    if (!(await exists(s.name))) continue;
    await clients.kinesis.send(new DeleteStreamCommand({ StreamName: s.name }));
    for (;;) {
      if (!(await exists(s.name))) break;
      await sleep(100);
    }
  }
}

/**
 * A scenario on the emulators: the app in this process (a `Runner`), or, for a scenario that
 * crashes it, in `tributary run` processes killed with SIGKILL, as test/integration/examples-counters.test.ts does.
 */
async function runOnEmulators(s: Scenario, endpoints: Endpoints) {
  const app = await loadExample(s.example);
  const clients = createClients({
    dynamodbEndpoint: endpoints.dynamodb,
    kinesisEndpoint: endpoints.kinesis,
    region: 'us-east-1',
  });
  await dropStreams(clients, app);
  const prefix = `${fresh('drv')}_`;
  const tableName = tablePrefix(prefix).physical;
  const started = process.hrtime.bigint();
  await createAppTables(clients, app, { prefix });
  let runner: Runner | undefined;
  let child: ChildProcess | undefined;
  const values = new Map<string, number>();
  const spawnApp = () =>
    spawn(process.execPath, ['bin/tributary.js', 'run', `examples/${s.example}.ts`, '--prefix', prefix], {
      env: {
        ...process.env,
        ...PROCESS_ENV,
        TRIBUTARY_DYNAMODB_ENDPOINT: endpoints.dynamodb,
        TRIBUTARY_KINESIS_ENDPOINT: endpoints.kinesis,
        AWS_REGION: 'us-east-1',
      },
      stdio: 'ignore',
    });
  try {
    if (s.crashes) child = spawnApp();
    else {
      runner = new Runner(app, { ...SETTINGS, clients, tableName, log: silentLogger });
      await runner.start();
      for (const name of runner.tapNames())
        runner
          .tap(name)!
          .values()
          .subscribe((e: TapEvent) => {
            if (e.type === 'final' || e.type === 'update') values.set(name, (values.get(name) ?? 0) + 1);
          });
    }
    const result = await s.run(app, {
      clients,
      tableName,
      wait: (ms) => sleep(ms),
      run: (w) => w,
      caughtUp: () => waitCaughtUp(clients, app, { tableName, timeoutMs: 180_000 }),
      async crashAndRestart() {
        child!.kill('SIGKILL');
        if (child!.exitCode === null && child!.signalCode === null) await once(child!, 'exit');
        child = spawnApp();
      },
      tapValues: (name) => values.get(name) ?? 0,
    });
    return { ms: elapsed(started), ...result };
  } finally {
    await runner?.stop();
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    destroyClients(clients);
  }
}

export const driver: Benchmark = {
  name: 'driver',
  title: "the example apps' tests on the in-memory test driver against the same tests on the emulators",
  async run(): Promise<BenchResult> {
    const rows: ResultRow[] = [];
    const notes: string[] = [];
    // The driver's side first, with no emulator running: a user's driver tests run without them
    // (on two cores an idle JVM beside the driver slows it measurably). A warm-up first: the
    // first run in a process loads dynalite and compiles the runtime. Then the median of 3 runs.
    await runOnDriver(SCENARIOS[0]!);
    const onDriver = new Map<Scenario, number>();
    for (const s of SCENARIOS) {
      progress(`driver: ${s.title}`);
      const runs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t = process.hrtime.bigint();
        const d = await runOnDriver(s);
        runs.push(elapsed(t));
        if (d.failures.length) notes.push(`${s.example} on the driver FAILED its checks: ${d.failures.join('; ')}`);
      }
      onDriver.set(s, [...runs].sort((x, y) => x - y)[1]!);
    }
    const startedAt = process.hrtime.bigint();
    const emulators = await startEmulators({ useEnvironment: false });
    const startMs = elapsed(startedAt);
    let [sumDriver, sumEmulators] = [0, 0];
    try {
      for (const s of SCENARIOS) {
        progress(`emulators: ${s.title}`);
        const e = await runOnEmulators(s, emulators.endpoints);
        const driverMs = onDriver.get(s)!;
        sumDriver += driverMs;
        sumEmulators += e.ms;
        rows.push({
          measure: s.title.split(':')[0]!,
          tributary: driverMs,
          baseline: e.ms,
          unit: 'ms',
          target: { on: 'ratio', op: '<=', value: 0.05 },
        });
        if (e.failures.length) notes.push(`${s.example} on the emulators FAILED its checks: ${e.failures.join('; ')}`);
      }
    } finally {
      await emulators.stop();
    }
    rows.push({
      measure: 'all',
      tributary: sumDriver,
      baseline: sumEmulators,
      unit: 'ms',
      target: { on: 'ratio', op: '<=', value: 0.05 },
    });
    rows.push({
      measure: 'all, emulator start included',
      tributary: sumDriver,
      baseline: sumEmulators + startMs,
      unit: 'ms',
    });
    notes.unshift(
      `each test (test/example-scenarios.ts): the example's own dev traffic for ${fmt(TRAFFIC_MS)} ms (virtual time on the driver, wall time on the emulators), then wait until every record is applied and checkpointed, then the checks of the example's report; tables, the app's start and its stop included. Driver: median of 3 runs, before the emulators start; emulators: one run`,
      'the emulators run the app in this process with the README test settings (lease take 200 ms, discovery 500 ms); the crash test runs `tributary run` processes with 2 s leases and SIGKILLs them, as test/integration/examples-counters.test.ts does; the driver runs the defaults',
      `starting DynamoDB Local and kinesis-mock took ${fmt(startMs)} ms; the driver starts nothing`,
    );
    return {
      name: 'driver',
      title: driver.title,
      command: 'npm run bench -- driver',
      columns: { tributary: 'driver ms', baseline: 'emulators ms' },
      rows,
      notes,
    };
  },
};
