import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Sink, SinkEnv } from '../src/core/sink.js';
import type { TableIO } from '../src/core/table-io.js';
import { app, pipeline } from '../src/core/pipeline.js';
import { silentLogger } from '../src/observe/log.js';
import { destroyClients } from '../src/runtime/clients.js';
import { Runner } from '../src/runtime/runner.js';
import type { MemoryRecord } from '../src/testing/memory-source.js';
import { createTable, scanAll } from '../src/testing/tables.js';
import { counterView, type CounterView } from '../src/views/counter/view.js';
import { AckWatch } from './lib/ack-watch.js';
import { benchClients, fresh, startDynamoLocal } from './lib/emulators.js';
import { fmt, progress, type Benchmark, type BenchResult, type ResultRow } from './lib/report.js';
import {
  BATCH,
  warmUp,
  WARMUP_UPDATES,
  countsOf,
  EVENTS,
  events,
  KEYS,
  pageViewSource,
  sameCounters,
  SHARDS,
  ZIPF_S,
  type PageView,
} from './lib/page-views.js';

/** `UpdateItem` calls in flight per write for the naive consumer, and per flush for the view. */
const CONCURRENCY = 16;

/**
 * The usual hand-written consumer (a Lambda on the stream): one `UpdateItem ADD views 1` per
 * event, `CONCURRENCY` at a time per batch, through the same TableIO (same retries) as the view.
 */
class NaiveCounter implements Sink<MemoryRecord<PageView>> {
  readonly name = 'naive-counter';
  private io!: TableIO;

  constructor(private readonly table: string) {}

  async open(env: SinkEnv): Promise<void> {
    this.io = env.io(env.tableName(this.table));
  }

  async write(outputs: readonly MemoryRecord<PageView>[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < outputs.length) {
        const r = outputs[next++]!;
        await this.io.update({
          Key: { page: { S: r.value.page } },
          UpdateExpression: 'ADD #v :one',
          ExpressionAttributeNames: { '#v': 'views' },
          ExpressionAttributeValues: { ':one': { N: '1' } },
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, outputs.length) }, worker));
  }
}

/** Counts the write requests sent to `table` by any of `clients`, every attempt included (below the SDK's own retries). */
function countWrites(
  clients: readonly (DynamoDBClient | undefined)[],
  table: string,
): { readonly count: () => number } {
  let n = 0;
  const WRITES = new Set([
    'UpdateItemCommand',
    'PutItemCommand',
    'DeleteItemCommand',
    'BatchWriteItemCommand',
    'TransactWriteItemsCommand',
  ]);
  for (const ddb of new Set(clients)) {
    ddb?.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { TableName?: string; RequestItems?: Record<string, unknown> };
        if (
          WRITES.has(context.commandName ?? '') &&
          (input.TableName === table || (input.RequestItems && table in input.RequestItems))
        )
          n++;
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: `countWrites-${table}` },
    );
  }
  return { count: () => n };
}

interface Measured {
  readonly eps: number;
  readonly requests: number;
  readonly counters: Map<string, number>;
  readonly error?: unknown;
  readonly view?: CounterView<MemoryRecord<PageView>>;
}

async function measure(
  endpoint: string,
  values: readonly PageView[],
  which: 'tributary' | 'naive',
  shardCount = SHARDS,
): Promise<Measured> {
  const clients = benchClients(endpoint);
  const table = fresh(`bench_counters_${which}`);
  await createTable(clients.dynamodb, { name: table, partitionKey: { name: 'page', type: 'S' } });
  const writes = countWrites([clients.dynamodb, clients.dynamodbData], table);
  const watch = new AckWatch(values.length);
  let t0: number | undefined;
  const src = pageViewSource('page_views', values, shardCount, () => (t0 ??= performance.now()));
  const view =
    which === 'tributary'
      ? counterView<MemoryRecord<PageView>>({
          table,
          partitionKey: 'page',
          key: (r) => ({ page: r.value.page }),
          add: { views: 1 },
          flush: { concurrency: CONCURRENCY },
        })
      : undefined;
  const def = app(fresh(`bench_counters_${which}`), [
    pipeline('page-views')
      .from(src)
      .to(view ?? new NaiveCounter(table)),
  ]);
  const runner = new Runner(def, { clients, metrics: watch, log: silentLogger });
  try {
    await runner.start();
    const t1 = await watch.done;
    const { error } = await runner.stop();
    const rows = await scanAll<{ page: string; views: number }>(clients.dynamodb, table);
    return {
      eps: values.length / ((t1 - t0!) / 1000),
      requests: writes.count(),
      counters: new Map(rows.map((r) => [r.page, r.views])),
      error,
      view,
    };
  } finally {
    await runner.stop();
    destroyClients(clients);
  }
}

export const counters: Benchmark = {
  name: 'counters',
  title: `counter view vs one UpdateItem per event: ${fmt(EVENTS)} events over ${fmt(KEYS)} keys (Zipf s = ${ZIPF_S}), ${SHARDS} shards, batches of ${fmt(BATCH)}, DynamoDB Local`,
  async run(): Promise<BenchResult> {
    const emu = await startDynamoLocal();
    const values = events();
    const truth = countsOf(values);
    try {
      progress(`warming DynamoDB Local up: ${fmt(WARMUP_UPDATES)} UpdateItem calls`);
      await warmUp(emu.endpoints.dynamodb);
      progress('tributary counter view');
      const t = await measure(emu.endpoints.dynamodb, values, 'tributary');
      progress('naive consumer: one UpdateItem per event');
      const n = await measure(emu.endpoints.dynamodb, values, 'naive');
      progress('tributary counter view, 1 shard');
      const one = await measure(emu.endpoints.dynamodb, values, 'tributary', 1);
      const s = t.view!.stats;
      const rows: ResultRow[] = [
        {
          measure: 'write requests per 1,000 events',
          tributary: (1000 * t.requests) / EVENTS,
          baseline: (1000 * n.requests) / EVENTS,
          unit: 'req',
          target: { on: 'ratio', op: '<=', value: 0.1 },
        },
        {
          measure: 'throughput',
          tributary: t.eps,
          baseline: n.eps,
          unit: 'events/s',
          target: { on: 'ratio', op: '>=', value: 5 },
        },
      ];
      const notes = [
        `write requests: tributary ${fmt(t.requests)} (${fmt(EVENTS / t.requests, 1)}x fewer), naive ${fmt(n.requests)}; counted below the SDK's retries, on the counter table only`,
        `counter view: ${fmt(s.flushes)} flushes, ${fmt(s.updates / Math.max(1, s.flushes))} keys and ${fmt(s.records / Math.max(1, s.flushes))} events per flush on average; ${fmt(truth.size)} distinct keys in all`,
        `final counters: tributary ${sameCounters(t.counters, truth) ? 'equal' : 'DIFFERENT from'} the counts of the events; naive ${sameCounters(n.counters, truth) ? 'equal' : 'DIFFERENT from'} them; identical to each other: ${sameCounters(t.counters, n.counters) ? 'yes' : 'NO'}`,
        `DynamoDB Local warmed up with ${fmt(WARMUP_UPDATES)} UpdateItem calls first; tributary measured first, then the naive consumer`,
        `both through the real Runner (leases, checkpoints) from the same in-memory source; timed from the first fetch to the last acknowledgement; the naive sink sends ${CONCURRENCY} UpdateItem calls at a time per batch (up to ${4 * SHARDS} batches in flight), the view ${CONCURRENCY} per flush`,
        `coalescing is bounded by what the runner keeps in flight (maxBatchesInFlight 4 x ${fmt(BATCH)} records x ${SHARDS} shards = ${fmt(4 * BATCH * SHARDS)} events at most per flush)`,
      ];
      notes.push(
        `1 shard instead of ${SHARDS} (tributary only): ${fmt(one.requests / EVENTS, 3)} req/event (${fmt(EVENTS / one.requests, 1)}x fewer than one per event), ${fmt(one.eps)} events/s, ${fmt(one.view!.stats.records / Math.max(1, one.view!.stats.flushes))} events per flush: with one shard at most 4 x ${fmt(BATCH)} events are in flight to coalesce; counters ${sameCounters(one.counters, truth) ? 'equal' : 'DIFFERENT from'} the counts`,
      );
      if (t.error || n.error || one.error)
        notes.push(
          `runner errors: tributary ${String(t.error)}, naive ${String(n.error)}, 1 shard ${String(one.error)}`,
        );
      return { name: 'counters', title: this.title, command: 'npm run bench -- counters', rows, notes };
    } finally {
      await emu.stop();
    }
  },
};
