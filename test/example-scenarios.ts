import type { Clients } from '../src/core/clients.js';
import type { AppDef } from '../src/core/pipeline.js';
import { TestDriver } from '../src/testing/index.js';

/**
 * The example apps' tests, written once against a backend: the in-memory test driver
 * (test/unit/examples-on-driver.test.ts) and the emulators (`npm run bench -- driver`, which times
 * both). Each sends the example's own dev traffic, waits until the app has caught up, and checks
 * the example's report as the emulator tests in test/integration/examples-*.test.ts do. No Vitest
 * and no test helpers here: the benchmark imports it too.
 */
export interface ScenarioBackend {
  readonly clients: Clients;
  readonly tableName: (logical: string) => string;
  /** Lets time pass while the traffic runs: virtual time on the driver, wall time on the emulators. */
  wait(ms: number): Promise<void>;
  /** Runs a call of the scenario's own to its end (on the driver's clock). */
  run<T>(work: Promise<T>): Promise<T>;
  /** Waits until every record in the app's sources is applied (or dead-lettered) and checkpointed. */
  caughtUp(): Promise<void>;
  /** Kills the app as SIGKILL would and starts it again at once. */
  crashAndRestart(): Promise<void>;
  /** Values (updates and finals of windows) a tap of the app has published so far. */
  tapValues(name: string): number;
}

export interface Scenario {
  /** What the test checks. */
  readonly title: string;
  /** The example it runs, under examples/. */
  readonly example: string;
  /** Whether it crashes the app (the backend then runs it in processes it can kill). */
  readonly crashes?: boolean;
  /** Runs the scenario; resolves with what went wrong (empty: it passed) and the report. */
  run(app: AppDef, backend: ScenarioBackend): Promise<{ readonly failures: string[]; readonly report: string }>;
}

/** Milliseconds of dev traffic each scenario sends. */
export const TRAFFIC_MS = 10_000;

/** The example's traffic for `ms`, with `during` run meanwhile; then caught up, then its report. */
async function withTraffic(
  app: AppDef,
  b: ScenarioBackend,
  during: () => Promise<void> = () => b.wait(TRAFFIC_MS),
): Promise<string> {
  const stop = new AbortController();
  const ctx = { clients: b.clients, tableName: b.tableName };
  const sending = app.dev!.traffic!({ ...ctx, signal: stop.signal });
  try {
    await during();
  } finally {
    stop.abort();
    await b.run(sending);
  }
  await b.caughtUp();
  return app.dev?.report ? b.run(app.dev.report(ctx)) : '';
}

/** The checks that fail: each a pattern the report must match, or a named condition. */
const expectations = (report: string, checks: readonly (RegExp | [string, boolean])[]): string[] =>
  checks.flatMap((c) =>
    c instanceof RegExp ? (c.test(report) ? [] : [`report does not match ${c}`]) : c[1] ? [] : [c[0]],
  );

const countedAll = (report: string): [string, boolean] => {
  const m = /page views: counted (\d+) of (\d+) sent/.exec(report);
  return ['every page view sent is counted once', !!m && Number(m[1]) === Number(m[2]) && Number(m[2]) > 0];
};

export const SCENARIOS: readonly Scenario[] = [
  {
    title: 'shop: orders indexed by customer, open orders and clicks counted, malformed clicks dead-lettered',
    example: 'shop',
    async run(app, b) {
      const report = await withTraffic(app, b);
      const rows = /rows: shop_orders (\d+), shop_orders_by_customer (\d+)/.exec(report);
      return {
        report,
        failures: expectations(report, [
          ['the index has a row per order', !!rows && rows[1] === rows[2] && Number(rows[1]) > 0],
          /clicks per page \(sum of per-minute counters\): \/\S* \d+/,
        ]),
      };
    },
  },
  {
    title: 'counters: every page view counted per page and minute, items per owner equal to the table',
    example: 'counters',
    async run(app, b) {
      const report = await withTraffic(app, b);
      return { report, failures: expectations(report, [countedAll(report), /matches the table: yes/]) };
    },
  },
  {
    title: 'counters, crashed three times mid-traffic: still every page view counted once (exactly-once)',
    example: 'counters',
    crashes: true,
    async run(app, b) {
      const report = await withTraffic(app, b, async () => {
        for (let i = 0; i < 3; i++) {
          await b.wait(TRAFFIC_MS / 4);
          await b.crashAndRestart();
        }
        await b.wait(TRAFFIC_MS / 4);
      });
      return { report, failures: expectations(report, [countedAll(report), /matches the table: yes/]) };
    },
  },
  {
    title: 'index-view: the index matches its source, no-op modifies write nothing',
    example: 'index-view',
    async run(app, b) {
      const report = await withTraffic(app, b);
      return {
        report,
        failures: expectations(report, [/index matches source: yes/, /dead letters: 0/, /view writes: [1-9]\d* puts/]),
      };
    },
  },
  {
    title: 'mirror: both replicas, fed through the Kinesis bridge, match the source',
    example: 'mirror',
    async run(app, b) {
      const report = await withTraffic(app, b);
      return {
        report,
        failures: expectations(report, [
          /mirror_users_eu: \d+ live, \d+ tombstones; matches source: yes/,
          /mirror_users_us: \d+ live, \d+ tombstones; matches source: yes/,
          /dead letters: 0/,
        ]),
      };
    },
  },
  {
    title: 'event-log: events stored once each, replayed in time order',
    example: 'event-log',
    async run(app, b) {
      const report = await withTraffic(app, b);
      const total = /replayed (\d+) events \((\d+) distinct ids\), in time order: yes/.exec(report);
      return {
        report,
        failures: expectations(report, [
          ['the replay is in time order, each id once', !!total && total[1] === total[2] && Number(total[1]) > 0],
        ]),
      };
    },
  },
  {
    title: 'live-dashboard: the tap keeps up with the clicks and publishes their windows',
    example: 'live-dashboard',
    async run(app, b) {
      await withTraffic(app, b);
      const values = b.tapValues('clicks-per-page');
      return {
        report: `${values} values published`,
        failures: expectations('', [['the tap published window values', values > 0]]),
      };
    },
  },
];

let loads = 0;
/** A fresh instance of an example (a module of its own, by query): its views and its traffic's counts are module state. */
export const loadExample = async (example: string): Promise<AppDef> =>
  ((await import(/* @vite-ignore */ `../examples/${example}.ts?instance=${++loads}`)) as { default: AppDef }).default;

/** Runs a scenario on the test driver, each start of the app on an instance of its own, as each process has. */
export async function runOnDriver(s: Scenario): Promise<{ readonly failures: string[]; readonly report: string }> {
  const instances = await Promise.all([0, 1, 2, 3, 4].map(() => loadExample(s.example)));
  let next = 0;
  const driver = await TestDriver.start(() => instances[Math.min(next++, instances.length - 1)]!);
  try {
    return await s.run(instances[0]!, {
      clients: driver.clients,
      tableName: (n) => n,
      wait: (ms) => driver.advance(ms),
      run: (w) => driver.run(w),
      caughtUp: () => driver.settle(),
      crashAndRestart: async () => {
        driver.crash();
        await driver.restart();
      },
      tapValues: (name) => driver.tapEvents(name).filter((e) => e.type === 'final' || e.type === 'update').length,
    });
  } finally {
    await driver.stop();
  }
}
