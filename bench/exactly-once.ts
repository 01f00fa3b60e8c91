import type { Guarantee } from '../src/core/pipeline.js';
import { app, pipeline } from '../src/core/pipeline.js';
import { silentLogger } from '../src/observe/log.js';
import { destroyClients } from '../src/runtime/clients.js';
import { Runner } from '../src/runtime/runner.js';
import type { MemoryRecord } from '../src/testing/memory-source.js';
import { createTable, scanAll } from '../src/testing/tables.js';
import { startThrottleProxy, type ThrottleProxy } from '../src/testing/throttle-proxy/index.js';
import { counterView } from '../src/views/counter/view.js';
import { AckWatch } from './lib/ack-watch.js';
import { benchClients, fresh, startDynamoLocal } from './lib/emulators.js';
import {
  BATCH,
  countsOf,
  EVENTS,
  events,
  KEYS,
  pageViewSource,
  sameCounters,
  SHARDS,
  warmUp,
  WARMUP_UPDATES,
  ZIPF_S,
  type PageView,
} from './lib/page-views.js';
import { fmt, median, progress, type Benchmark, type BenchResult, type ResultRow } from './lib/report.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const UNLIMITED = { wcu: 1e9, rcu: 1e9 };

interface Round {
  readonly eps: number;
  /** Write units consumed by the counter table and by the lease table (checkpoints, and progress items when exactly-once). */
  readonly viewWcu: number;
  readonly leaseWcu: number;
  readonly exact: boolean;
  readonly error?: unknown;
}

/**
 * One run of the counter view in one mode through the metering proxy: a fresh app (so fresh
 * leases) and a fresh counter table, both metered from zero.
 */
async function round(proxy: ThrottleProxy, values: readonly PageView[], guarantee: Guarantee): Promise<Round> {
  const clients = benchClients(proxy.endpoint);
  const name = fresh(`bench_eo_${guarantee === 'exactly-once' ? 'eo' : 'alo'}`);
  const table = `${name}_counts`;
  const leases = `${name}_leases`;
  await createTable(clients.dynamodb, { name: table, partitionKey: { name: 'page', type: 'S' } });
  // A budget no run comes near meters a table without throttling it (an empty one would not meter it).
  await proxy.setBudget(table, UNLIMITED);
  await proxy.setBudget(leases, UNLIMITED);
  const watch = new AckWatch(values.length);
  let t0: number | undefined;
  const def = app(name, [
    pipeline('page-views')
      .from(pageViewSource('page_views', values, SHARDS, () => (t0 ??= performance.now())))
      .with({ guarantee })
      .to(
        counterView<MemoryRecord<PageView>>({
          table,
          partitionKey: 'page',
          key: (r) => ({ page: r.value.page }),
          add: { views: 1 },
        }),
      ),
  ]);
  const runner = new Runner(def, { clients, metrics: watch, log: silentLogger });
  try {
    await runner.start();
    const t1 = await watch.done;
    const { error } = await runner.stop();
    const rows = await scanAll<{ page: string; views: number }>(clients.dynamodb, table);
    return {
      eps: values.length / ((t1 - t0!) / 1000),
      viewWcu: proxy.stats(table).consumedWcu,
      leaseWcu: proxy.stats(leases).consumedWcu,
      exact: sameCounters(new Map(rows.map((r) => [r.page, r.views])), countsOf(values)),
      error,
    };
  } finally {
    await runner.stop();
    destroyClients(clients);
  }
}

export const exactlyOnce: Benchmark = {
  name: 'exactly-once',
  title: `counter view, exactly-once against at-least-once: ${fmt(EVENTS)} events over ${fmt(KEYS)} keys (Zipf s = ${ZIPF_S}), ${SHARDS} shards, batches of ${fmt(BATCH)}, DynamoDB Local behind the metering proxy`,
  async run(): Promise<BenchResult> {
    const emu = await startDynamoLocal();
    const proxy = await startThrottleProxy({ target: emu.endpoints.dynamodb });
    const values = events();
    try {
      progress(`warming DynamoDB Local up: ${fmt(WARMUP_UPDATES)} UpdateItem calls`);
      await warmUp(emu.endpoints.dynamodb);
      const alo: Round[] = [];
      const eo: Round[] = [];
      // Rounds alternate, so a slow spell of the shared machine falls on both modes alike.
      for (let i = 0; i < RUNS; i++) {
        progress(`round ${i + 1}/${RUNS}: at-least-once`);
        alo.push(await round(proxy, values, 'at-least-once'));
        progress(`round ${i + 1}/${RUNS}: exactly-once`);
        eo.push(await round(proxy, values, 'exactly-once'));
      }
      const perK = (r: Round) => (1000 * (r.viewWcu + r.leaseWcu)) / EVENTS;
      const rows: ResultRow[] = [
        {
          measure: 'throughput',
          tributary: median(eo.map((r) => r.eps)),
          baseline: median(alo.map((r) => r.eps)),
          unit: 'events/s',
          target: { on: 'ratio', op: '>=', value: 0.5 },
        },
        {
          measure: 'write units per 1,000 events (counter + lease tables)',
          tributary: median(eo.map(perK)),
          baseline: median(alo.map(perK)),
          unit: 'WCU',
          target: { on: 'ratio', op: '<=', value: 2.5 },
        },
        {
          measure: 'write units per 1,000 events, counter table only',
          tributary: median(eo.map((r) => (1000 * r.viewWcu) / EVENTS)),
          baseline: median(alo.map((r) => (1000 * r.viewWcu) / EVENTS)),
          unit: 'WCU',
        },
      ];
      const show = (rs: Round[]) =>
        rs
          .map(
            (r) =>
              `${fmt(r.eps)} ev/s, ${fmt(r.viewWcu)} + ${fmt(r.leaseWcu)} WCU, counters ${r.exact ? 'exact' : 'NOT EXACT'}${r.error ? `, error ${String(r.error)}` : ''}`,
          )
          .join('; ');
      const notes = [
        `at-least-once runs: ${show(alo)}`,
        `exactly-once runs: ${show(eo)}`,
        `write units as the metering proxy counts them (DynamoDB Local's answers, its estimate where none): exactly-once writes each counter item with a conditional UpdateItem carrying its applied marks (1 unit per KB, as at-least-once's ADD), plus one progress write per shard per commit in the lease table; both columns include checkpoints`,
        `rounds alternate, ${RUNS} each (BENCH_RUNS); medians; a fresh app and counter table per round; DynamoDB Local warmed up with ${fmt(WARMUP_UPDATES)} UpdateItem calls first`,
      ];
      return {
        name: 'exactly-once',
        title: this.title,
        command: 'npm run bench -- exactly-once',
        rows,
        columns: { tributary: 'exactly-once', baseline: 'at-least-once' },
        notes,
      };
    } finally {
      await proxy.stop();
      await emu.stop();
    }
  },
};
