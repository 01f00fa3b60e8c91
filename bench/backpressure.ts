import type { Clients } from '../src/core/clients.js';
import { destroyClients } from '../src/runtime/clients.js';
import { createTable } from '../src/testing/tables.js';
import { startThrottleProxy, type ThrottleProxy } from '../src/testing/throttle-proxy/index.js';
import type { Sample } from './backpressure-child.js';
import { runJsonChild } from './lib/child.js';
import { benchClients, fresh, startDynamoLocal } from './lib/emulators.js';
import { fmt, progress, type Benchmark, type BenchResult } from './lib/report.js';

const SMALL = 20_000;
const LARGE = 2_000_000;
const WCU = 50;
const SECONDS = Number(process.env.BENCH_BACKPRESSURE_SECONDS ?? 35);
const ARRIVALS = 1_000;
const TARGET_RATIO = 1.2;
const MB = 1024 * 1024;

interface ChildResult {
  readonly backlog: number;
  readonly startRss: number;
  readonly samples: readonly Sample[];
  readonly throttled: number;
}

/** Runs one case in a fresh Node process, so that its RSS is its alone. */
function runChild(proxy: ThrottleProxy, table: string, backlog: number): Promise<ChildResult> {
  const env = {
    TRIBUTARY_DYNAMODB_ENDPOINT: proxy.endpoint,
    BENCH_BP_TABLE: table,
    BENCH_BP_BACKLOG: String(backlog),
    BENCH_BP_SECONDS: String(SECONDS),
    BENCH_BP_ARRIVALS: String(ARRIVALS),
  };
  return runJsonChild<ChildResult>(
    new URL('./backpressure-child.ts', import.meta.url),
    env,
    `backpressure child (${backlog} records)`,
  );
}

async function sinkTable(direct: Clients): Promise<string> {
  const table = fresh('bench_bp_sink');
  await createTable(direct.dynamodb, {
    name: table,
    partitionKey: { name: 'id', type: 'S' },
    provisioned: { read: WCU, write: WCU },
  });
  return table;
}

const peak = (r: ChildResult) => Math.max(...r.samples.map((s) => s.rss));
const at = (r: ChildResult, t: number) => r.samples.find((s) => s.t >= t) ?? r.samples[r.samples.length - 1]!;
const last = (r: ChildResult) => r.samples[r.samples.length - 1]!;
const rssEvery5s = (r: ChildResult) =>
  Array.from({ length: Math.floor(SECONDS / 5) + 1 }, (_, k) => fmt(at(r, k * 5).rss / MB)).join(' ');

function lag(r: ChildResult, label: string): string {
  const a = at(r, 5);
  const z = last(r);
  const dt = z.t - a.t;
  return (
    `${label}: from t=5 s to t=${fmt(z.t, 1)} s, records behind ${fmt(a.behind)} -> ${fmt(z.behind)} (+${fmt(z.behind - a.behind)}, +${fmt((z.behind - a.behind) / dt)}/s), ` +
    `iterator age ${fmt(a.ageMs / 1000, 1)} s -> ${fmt(z.ageMs / 1000, 1)} s, acknowledged ${fmt(a.acknowledged)} -> ${fmt(z.acknowledged)} (${fmt((z.acknowledged - a.acknowledged) / dt, 1)}/s)`
  );
}

export const backpressure: Benchmark = {
  name: 'backpressure',
  title: `RSS with a ${fmt(LARGE)}-record backlog against ${fmt(SMALL)}, into a ${WCU} WCU table through the throttling proxy, ${SECONDS} s`,
  async run(): Promise<BenchResult> {
    const emu = await startDynamoLocal();
    const direct = benchClients(emu.endpoints.dynamodb);
    const proxy = await startThrottleProxy({ target: emu.endpoints.dynamodb, defaultBudget: 'provisioned' });
    let small: ChildResult;
    let large: ChildResult;
    try {
      progress(`${fmt(SMALL)}-record backlog, ${SECONDS} s`);
      small = await runChild(proxy, await sinkTable(direct), SMALL);
      progress(`${fmt(LARGE)}-record backlog, ${SECONDS} s`);
      large = await runChild(proxy, await sinkTable(direct), LARGE);
    } finally {
      await proxy.stop();
      destroyClients(direct);
      await emu.stop();
    }
    const a = at(large, 5).rss;
    const z = last(large).rss;
    return {
      name: 'backpressure',
      title: this.title,
      command:
        SECONDS === 35
          ? 'npm run bench -- backpressure'
          : `BENCH_BACKPRESSURE_SECONDS=${SECONDS} npm run bench -- backpressure`,
      columns: { tributary: `backlog ${fmt(LARGE)}`, baseline: `backlog ${fmt(SMALL)}` },
      rows: [
        {
          measure: 'peak RSS',
          tributary: peak(large) / MB,
          baseline: peak(small) / MB,
          unit: 'MB',
          target: { on: 'ratio', op: '<=', value: TARGET_RATIO },
        },
        {
          measure: 'RSS at t=5 s',
          tributary: at(large, 5).rss / MB,
          baseline: at(small, 5).rss / MB,
          unit: 'MB',
          target: { on: 'ratio', op: '<=', value: TARGET_RATIO },
        },
        {
          measure: 'RSS at the end',
          tributary: z / MB,
          baseline: last(small).rss / MB,
          unit: 'MB',
          target: { on: 'ratio', op: '<=', value: TARGET_RATIO },
        },
      ],
      notes: [
        `${fmt(LARGE)}: RSS at t=5 s ${fmt(a / MB, 1)} MB, at the end ${fmt(z / MB, 1)} MB (end / 5 s = ${fmt(z / a, 2)}); peak heap used ${fmt(Math.max(...large.samples.map((s) => s.heapUsed)) / MB, 1)} MB`,
        lag(large, fmt(LARGE)),
        lag(small, fmt(SMALL)),
        `RSS every 5 s (MB): ${fmt(LARGE)}: ${rssEvery5s(large)}; ${fmt(SMALL)}: ${rssEvery5s(small)}`,
        `RSS at child start (after imports): ${fmt(large.startRss / MB, 1)} / ${fmt(small.startRss / MB, 1)} MB; throttling reported to the governor: ${fmt(large.throttled)} / ${fmt(small.throttled)}`,
        `each case in a fresh process, RSS sampled every 250 ms from runner.start(); a producer keeps writing ${fmt(ARRIVALS)} records/s into the stream (generated on demand, memorySource generator, ~215 bytes = 1 WCU each, 1 shard, batches of 100, default maxBatchesInFlight); Runner -> tableWriter on a fresh ${WCU} WCU table behind startThrottleProxy({ defaultBudget: 'provisioned' }), proxy and DynamoDB Local in the parent`,
      ],
    };
  },
};
