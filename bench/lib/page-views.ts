import { memorySource, type MemoryRecord } from '../../src/testing/memory-source.js';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { StreamSource } from '../../src/core/source.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { createTable } from '../../src/testing/tables.js';
import { benchClients, fresh } from './emulators.js';
import { observedSource } from './workload.js';

/**
 * The page-view workload of the counter benchmarks (`counters`, `exactly-once`): seeded
 * Zipf-distributed pages, so every consumer and every round counts the same events.
 */
export const EVENTS = Number(process.env.BENCH_COUNTER_EVENTS ?? 100_000);
export const KEYS = 1_000;
export const ZIPF_S = 1.1;
export const SHARDS = 4;
export const BATCH = 1_000;

export interface PageView {
  readonly page: string;
}

/** Zipf-distributed page ranks from a seeded generator: the same events for every consumer. */
export function events(): PageView[] {
  let x = 12_345;
  const rand = () => (x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
  const cdf: number[] = [];
  let total = 0;
  for (let k = 1; k <= KEYS; k++) cdf.push((total += 1 / k ** ZIPF_S));
  return Array.from({ length: EVENTS }, () => {
    const u = rand() * total;
    let lo = 0;
    let hi = KEYS - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return { page: `page-${lo}` };
  });
}

/** The events split over `shardCount` shards of a memory source, batches of {@link BATCH}; `onRead` hears every fetch. */
export function pageViewSource(
  name: string,
  values: readonly PageView[],
  shardCount: number,
  onRead: () => void,
): StreamSource<MemoryRecord<PageView>> {
  const per = Math.ceil(values.length / shardCount);
  const shards = Array.from({ length: shardCount }, (_, s) => ({
    shardId: `shard-${s}`,
    values: values.slice(s * per, (s + 1) * per),
  }));
  return observedSource(memorySource<PageView>(name, shards, { batchSize: BATCH }), onRead, { yieldEachFetch: true });
}

/** The count of each page in `values`. */
export function countsOf(values: readonly PageView[]): Map<string, number> {
  const truth = new Map<string, number>();
  for (const v of values) truth.set(v.page, (truth.get(v.page) ?? 0) + 1);
  return truth;
}

/** True when two page counts are equal, key by key. */
export const sameCounters = (a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

/** UpdateItem calls that warm DynamoDB Local up before anything is timed. */
export const WARMUP_UPDATES = 10_000;

/** DynamoDB Local's JVM answers several times faster once warm: warm it before either side is timed. */
export async function warmUp(endpoint: string): Promise<void> {
  const clients = benchClients(endpoint);
  const table = fresh('bench_counters_warmup');
  try {
    await createTable(clients.dynamodb, { name: table, partitionKey: { name: 'page', type: 'S' } });
    let next = 0;
    const worker = async () => {
      while (next < WARMUP_UPDATES) {
        const i = next++;
        await clients.dynamodb.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { page: { S: `page-${i % KEYS}` } },
            UpdateExpression: 'ADD #v :one',
            ExpressionAttributeNames: { '#v': 'views' },
            ExpressionAttributeValues: { ':one': { N: '1' } },
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
  } finally {
    destroyClients(clients);
  }
}
