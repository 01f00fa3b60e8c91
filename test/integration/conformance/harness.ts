import { appTables } from '../../../src/core/app-tables.js';
import type { Clients } from '../../../src/core/clients.js';
import type { AppDef } from '../../../src/core/pipeline.js';
import { silentLogger } from '../../../src/observe/log.js';
import { Runner } from '../../../src/runtime/runner.js';
import type { TapEvent } from '../../../src/taps/events.js';
import { createAppTables, scanAll, TestDriver, waitCaughtUp } from '../../../src/testing/index.js';
import { tablePrefix } from '../../../src/views/tables/naming.js';

export type Item = Record<string, unknown>;

/** What one test body gets, whichever backend it runs on. */
export interface Harness {
  readonly backend: 'driver' | 'emulators';
  /** Clients on the backend, for the body's writes (SDK calls, as an app's users make them). */
  readonly clients: Clients;
  /** Physical name of an app table (the emulators' run prefixes them). */
  readonly tableName: (logical: string) => string;
  /** Runs the body's own call to completion (on the driver, on its virtual clock). */
  run<T>(work: Promise<T>): Promise<T>;
  /** Waits until every record in the app's sources is applied and checkpointed. */
  settle(): Promise<void>;
  /** Waits (on the driver, moving its clock) until `done` holds. */
  waitFor(done: () => boolean): Promise<void>;
  /** Final values a tap published, by window and key. */
  tapFinals(name: string): Item[];
  /** Every table of the app (views and sources; not the lease and dead-letter tables), by logical name, rows sorted. */
  tables(): Promise<Record<string, Item[]>>;
  /** Dead letters, without their times and ids. */
  deadLetters(): Promise<Item[]>;
  stop(): Promise<void>;
}

/** The same timings on both backends: what differs is only where the services run and whose clock it is. */
export const RUNNER_SETTINGS = {
  leaseDurationMs: 3_000,
  leaseTakeIntervalMs: 100,
  discoveryIntervalMs: 500,
  checkpointIntervalMs: 200,
  shutdownDeadlineMs: 20_000,
} as const;

const sortRows = (rows: Item[]): Item[] =>
  rows
    .map((r) => ({ key: canonical(r), r }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((x) => x.r);

/** JSON with object keys sorted, so two equal items print the same. */
export const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Uint8Array)
      ? Object.fromEntries(Object.entries(x as Item).sort(([a], [b]) => (a < b ? -1 : 1)))
      : x instanceof Set
        ? [...(x as Set<unknown>)].sort()
        : x,
  );

async function readTables(
  clients: Clients,
  app: AppDef,
  physical: (n: string) => string,
): Promise<Record<string, Item[]>> {
  const out: Record<string, Item[]> = {};
  for (const t of appTables(app)) out[t.name] = sortRows(await scanAll<Item>(clients.dynamodb, physical(t.name)));
  return out;
}

const finalsOf = (events: readonly TapEvent[]): Item[] =>
  sortRows(
    events.flatMap((e) =>
      e.type === 'final' ? [{ window: `${e.window.start}-${e.window.end}`, key: e.key, value: e.value as Item }] : [],
    ),
  );

const letters = (rows: readonly Item[]): Item[] =>
  sortRows(rows.map(({ pipeline, stage, code, message }) => ({ pipeline, stage, code, message })));

/** The app on the in-memory test driver, its clock starting at `startTime`. */
export async function onDriver(app: AppDef, startTime: number): Promise<Harness> {
  const driver = await TestDriver.start(app, { startTime, runner: RUNNER_SETTINGS });
  return {
    backend: 'driver',
    clients: driver.clients,
    tableName: (n) => n,
    run: (w) => driver.run(w),
    settle: () => driver.settle(),
    async waitFor(done) {
      for (let waited = 0; !done(); waited += 250) {
        if (waited > 120_000) throw new Error('the driver did not get there in 120 s of virtual time');
        await driver.advance(250);
      }
    },
    tapFinals: (name) => finalsOf(driver.tapEvents(name)),
    tables: () => driver.run(readTables(driver.clients, app, (n) => n)),
    deadLetters: async () => letters(await driver.deadLetters()),
    stop: () => driver.stop(),
  };
}

/** The app on the emulators (DynamoDB Local and kinesis-mock), under a table prefix of its own. */
export async function onEmulators(app: AppDef, clients: Clients, prefix: string): Promise<Harness> {
  const physical = tablePrefix(prefix).physical;
  await createAppTables(clients, app, { prefix });
  const runner = new Runner(app, { ...RUNNER_SETTINGS, clients, tableName: physical, log: silentLogger });
  await runner.start();
  const events = new Map<string, TapEvent[]>();
  const subs = runner.tapNames().map((n) =>
    runner
      .tap(n)!
      .values()
      .subscribe((e) => events.set(n, [...(events.get(n) ?? []), e])),
  );
  return {
    backend: 'emulators',
    clients,
    tableName: physical,
    run: (w) => w,
    settle: () => waitCaughtUp(clients, app, { tableName: physical, timeoutMs: 180_000 }),
    async waitFor(done) {
      for (const started = Date.now(); !done(); await new Promise((r) => setTimeout(r, 100)))
        if (Date.now() - started > 120_000) throw new Error('the emulators did not get there in 120 s');
    },
    tapFinals: (name) => finalsOf(events.get(name) ?? []),
    tables: () => readTables(clients, app, physical),
    deadLetters: async () => letters(await scanAll<Item>(clients.dynamodb, physical(app.deadLetters.tableName))),
    async stop() {
      for (const s of subs) s.unsubscribe();
      await runner.stop();
    },
  };
}

/** What differs between two runs' tables, row by row: empty when they are equal. */
export function differences(a: Record<string, Item[]>, b: Record<string, Item[]>, names: [string, string]): string[] {
  const out: string[] = [];
  for (const table of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const left = new Set((a[table] ?? []).map(canonical));
    const right = new Set((b[table] ?? []).map(canonical));
    for (const r of left) if (!right.has(r)) out.push(`${table}: only on ${names[0]}: ${r}`);
    for (const r of right) if (!left.has(r)) out.push(`${table}: only on ${names[1]}: ${r}`);
  }
  return out;
}
