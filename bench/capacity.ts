import { BatchWriteItemCommand, DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { map } from 'rxjs';
import type { Clients } from '../src/core/clients.js';
import { app, pipeline } from '../src/core/pipeline.js';
import { sleep } from '../src/core/time.js';
import { silentLogger } from '../src/observe/log.js';
import { Metrics } from '../src/observe/metrics.js';
import { createClients, destroyClients } from '../src/runtime/clients.js';
import { Runner } from '../src/runtime/runner.js';
import { tableWriter } from '../src/sinks/table-writer.js';
import { put } from '../src/sinks/table-writes.js';
import { memorySource } from '../src/testing/memory-source.js';
import { createTable } from '../src/testing/tables.js';
import { startThrottleProxy, type ThrottleProxy, type ThrottleStats } from '../src/testing/throttle-proxy/index.js';
import { benchClients, fresh, startDynamoLocal } from './lib/emulators.js';
import { fmt, progress, type Benchmark, type BenchResult } from './lib/report.js';

const WCU = 100;
const SECONDS = Number(process.env.BENCH_CAPACITY_SECONDS ?? 60);
const WARMUP_SECONDS = Number(process.env.BENCH_CAPACITY_WARMUP ?? 5);
/** 200 s of budget: the backlog outlasts the window whatever happens. */
const ITEMS = 20_000;
const BATCH = 100;
const SENDERS = 8;
const TARGET_UTILIZATION = 90;
const TARGET_THROTTLED = 1;

/** ~215 bytes on the wire: 1 WCU each. */
const item = (i: number) => ({ id: `item-${i}`, body: 'x'.repeat(200) });

interface Measured {
  readonly stats: ThrottleStats;
  /** Consumed WCU per second from the first write to the end of the window (warm-up included). */
  readonly perSecond: readonly number[];
  readonly notes: readonly string[];
}

const utilization = (s: ThrottleStats) => (100 * s.consumedWcu) / (WCU * (s.elapsedMs / 1000));
const throttledRequests = (s: ThrottleStats) =>
  (100 * (s.throttledRequests + s.partialRequests)) / Math.max(1, s.requests);
const throttledItems = (s: ThrottleStats) =>
  (100 * (s.unprocessedItems + s.rejectedItems)) / Math.max(1, s.acceptedItems + s.unprocessedItems + s.rejectedItems);
const itemsPerSecond = (s: ThrottleStats) => s.acceptedItems / (s.elapsedMs / 1000);

/**
 * Samples a table's consumed WCU once a second from its first write, so that a missed target can
 * be placed in time (a slow start, a cut after throttling); the window is whole ticks of the same
 * timer: the proxy's counters are reset after the warm-up ticks and read `SECONDS` ticks later.
 */
class WcuSeries {
  readonly perSecond: number[] = [];
  readonly extra: number[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly proxy: ThrottleProxy,
    private readonly table: string,
    private readonly sampleExtra: () => number = () => 0,
  ) {}

  async window(): Promise<ThrottleStats> {
    while (this.proxy.stats(this.table).requests === 0) await sleep(20);
    let prev = 0;
    let ticks = 0;
    return new Promise((resolve) => {
      this.timer = setInterval(() => {
        const now = this.proxy.stats(this.table).consumedWcu;
        this.perSecond.push(now - prev);
        this.extra.push(this.sampleExtra());
        prev = now;
        ticks++;
        if (ticks === WARMUP_SECONDS) {
          this.proxy.resetStats(this.table);
          prev = 0;
        } else if (ticks === WARMUP_SECONDS + SECONDS) {
          this.stop();
          resolve(this.proxy.stats(this.table));
        }
      }, 1_000);
    });
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

const sliceUtilization = (perSecond: readonly number[], size = 10) => {
  const out: string[] = [];
  for (let i = 0; i < perSecond.length; i += size) {
    const s = perSecond.slice(i, i + size);
    out.push(`${fmt((100 * s.reduce((a, b) => a + b, 0)) / (WCU * s.length))}%`);
  }
  return out.join(' ');
};

async function provisionedTable(direct: Clients, prefix: string): Promise<string> {
  const table = fresh(prefix);
  await createTable(direct.dynamodb, {
    name: table,
    partitionKey: { name: 'id', type: 'S' },
    provisioned: { read: WCU, write: WCU },
  });
  return table;
}

async function measureTributary(direct: Clients, proxy: ThrottleProxy): Promise<Measured> {
  const table = await provisionedTable(direct, 'bench_cap_trib');
  const clients = createClients({ dynamodbEndpoint: proxy.endpoint, region: 'us-east-1' });
  const metrics = new Metrics();
  const source = memorySource('backlog', [{ shardId: 'shard-0', values: { count: ITEMS, at: item } }], {
    batchSize: BATCH,
  });
  const def = app(fresh('bench_cap'), [
    pipeline('load')
      .from(source)
      .pipe(map((r) => put(r.value)))
      .to(tableWriter(table)),
  ]);
  const runner = new Runner(def, { clients, metrics, log: silentLogger, shutdownDeadlineMs: 10_000 });
  const series = new WcuSeries(proxy, table, () => runner.governor(table).rate('write') ?? NaN);
  try {
    await runner.start();
    const stats = await series.window();
    const cuts = await metrics.sum('tributary_capacity_throttled_total');
    const rates = series.extra;
    const inWindow = rates.slice(WARMUP_SECONDS);
    return {
      stats,
      perSecond: series.perSecond,
      notes: [
        `tributary: governor write rate (WCU/s) each second from the first write: ${rates.map((r) => fmt(r)).join(' ')}`,
        `tributary: rate at window start ${fmt(inWindow[0] ?? NaN)}, lowest in window ${fmt(Math.min(...inWindow))}; throttling reported to the governor: ${fmt(cuts)} items/errors; waited for tokens ${fmt(await metrics.sum('tributary_capacity_wait_seconds_total'), 1)} s`,
      ],
    };
  } finally {
    series.stop();
    await runner.stop();
    destroyClients(clients);
  }
}

/**
 * The usual hand-written writer: a plain DynamoDBClient (the SDK's defaults: standard retry mode,
 * 3 attempts), BatchWriteItem of 25 from SENDERS loops, UnprocessedItems sent again at once until
 * none are left, no rate limiting. An error the SDK gives up on is retried by sending again.
 */
async function measureBaseline(direct: Clients, proxy: ThrottleProxy): Promise<Measured> {
  const table = await provisionedTable(direct, 'bench_cap_base');
  const ddb = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: proxy.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  let next = 0;
  let stopping = false;
  let attempts = 0;
  let calls = 0;
  let surfaced = 0;
  const sender = async () => {
    while (!stopping) {
      let pending: WriteRequest[] = Array.from({ length: 25 }, () => ({
        PutRequest: { Item: marshall(item(next++)) },
      }));
      while (pending.length > 0 && !stopping) {
        calls++;
        try {
          const out = await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
          attempts += out.$metadata.attempts ?? 1;
          pending = out.UnprocessedItems?.[table] ?? [];
        } catch (e) {
          attempts += (e as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
          surfaced++;
        }
      }
    }
  };
  const series = new WcuSeries(proxy, table);
  const senders = Array.from({ length: SENDERS }, sender);
  try {
    const stats = await series.window();
    return {
      stats,
      perSecond: series.perSecond,
      notes: [
        `baseline: ${fmt(calls)} send() calls (warm-up included), ${fmt(attempts)} HTTP attempts with the SDK's retries, ${fmt(surfaced)} errors the SDK gave up on (sent again)`,
      ],
    };
  } finally {
    stopping = true;
    series.stop();
    await Promise.all(senders);
    ddb.destroy();
  }
}

export const capacity: Benchmark = {
  name: 'capacity',
  title: `capacity adherence: writes to a ${WCU} WCU table through the throttling proxy, ${SECONDS} s window after ${WARMUP_SECONDS} s of warm-up`,
  async run(): Promise<BenchResult> {
    const emu = await startDynamoLocal();
    const direct = benchClients(emu.endpoints.dynamodb);
    const proxy = await startThrottleProxy({ target: emu.endpoints.dynamodb, defaultBudget: 'provisioned' });
    let trib: Measured;
    let base: Measured;
    try {
      progress(
        `tributary: Runner, memorySource of ${fmt(ITEMS)} items (batches of ${BATCH}) -> tableWriter, ${WARMUP_SECONDS + SECONDS} s`,
      );
      trib = await measureTributary(direct, proxy);
      progress(`baseline: ${SENDERS} BatchWriteItem loops on a plain DynamoDBClient, ${WARMUP_SECONDS + SECONDS} s`);
      base = await measureBaseline(direct, proxy);
    } finally {
      await proxy.stop();
      destroyClients(direct);
      await emu.stop();
    }
    const t = trib.stats;
    const b = base.stats;
    const counts = (s: ThrottleStats) =>
      `${fmt(s.requests)} requests (${fmt(s.throttledRequests)} refused, ${fmt(s.partialRequests)} partial), ${fmt(s.acceptedItems)} items written, ${fmt(s.unprocessedItems + s.rejectedItems)} returned, ${fmt(s.consumedWcu)} WCU in ${fmt(s.elapsedMs / 1000, 1)} s`;
    return {
      name: 'capacity',
      title: this.title,
      command:
        SECONDS === 60 ? 'npm run bench -- capacity' : `BENCH_CAPACITY_SECONDS=${SECONDS} npm run bench -- capacity`,
      columns: { tributary: 'tributary', baseline: `${SENDERS} loops, SDK retries` },
      rows: [
        {
          measure: 'utilization (consumed / budget)',
          tributary: utilization(t),
          baseline: utilization(b),
          unit: '%',
          target: { on: 'tributary', op: '>=', value: TARGET_UTILIZATION },
        },
        {
          measure: 'throttled requests (refused + partial)',
          tributary: throttledRequests(t),
          baseline: throttledRequests(b),
          unit: '%',
          target: { on: 'tributary', op: '<=', value: TARGET_THROTTLED },
        },
        {
          measure: 'throttled items (unprocessed + refused)',
          tributary: throttledItems(t),
          baseline: throttledItems(b),
          unit: '%',
          target: { on: 'tributary', op: '<=', value: TARGET_THROTTLED },
        },
        {
          measure: 'items written',
          tributary: itemsPerSecond(t),
          baseline: itemsPerSecond(b),
          unit: 'items/s',
          target: { on: 'tributary', op: '>=', value: (TARGET_UTILIZATION / 100) * WCU },
        },
      ],
      notes: [
        `tributary: ${counts(t)}`,
        `baseline:  ${counts(b)}`,
        `utilization per 10 s from the first write (the first ${WARMUP_SECONDS} s are warm-up): tributary ${sliceUtilization(trib.perSecond)}; baseline ${sliceUtilization(base.perSecond)}`,
        ...trib.notes,
        ...base.notes,
        `each side on a fresh table of ${WCU} WCU behind startThrottleProxy({ defaultBudget: 'provisioned' }) (1 s bucket), one after the other; items ~215 bytes (1 WCU); tributary: 1 shard, default Runner and capacity options`,
      ],
    };
  },
};
