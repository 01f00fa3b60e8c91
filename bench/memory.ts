import { runJsonChild } from './lib/child.js';
import { startDynamoLocal } from './lib/emulators.js';
import { fmt, median, progress, type Benchmark, type BenchResult } from './lib/report.js';

const SMALL = 20_000;
const LARGE = 200_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TARGET_RATIO = 1.2;
const MB = 1024 * 1024;

interface ChildResult {
  readonly records: number;
  readonly acknowledged: number;
  readonly startRss: number;
  readonly peakRss: number;
  readonly peakHeap: number;
  readonly liveHeapAtEnd: number;
  readonly ms: number;
  readonly error?: string;
}

/** Runs one case in a fresh Node process, so that its RSS is its alone (`--expose-gc` for the live-heap figure). */
function runChild(endpoint: string, records: number): Promise<ChildResult> {
  const env = { TRIBUTARY_DYNAMODB_ENDPOINT: endpoint, BENCH_MEMORY_RECORDS: String(records) };
  return runJsonChild<ChildResult>(
    new URL('./memory-child.ts', import.meta.url),
    env,
    `memory child (${records} records)`,
    ['--expose-gc'],
  );
}

export const memory: Benchmark = {
  name: 'memory',
  title: `peak RSS with a ${fmt(LARGE)}-record backlog against ${fmt(SMALL)}, slow sink (5 ms per batch of 100)`,
  async run(): Promise<BenchResult> {
    const emu = await startDynamoLocal();
    const small: ChildResult[] = [];
    const large: ChildResult[] = [];
    try {
      for (let i = 0; i < RUNS; i++) {
        progress(`round ${i + 1}/${RUNS}: ${fmt(SMALL)} records`);
        small.push(await runChild(emu.endpoints.dynamodb, SMALL));
        progress(`round ${i + 1}/${RUNS}: ${fmt(LARGE)} records`);
        large.push(await runChild(emu.endpoints.dynamodb, LARGE));
      }
    } finally {
      await emu.stop();
    }
    const mb = (xs: ChildResult[], f: (r: ChildResult) => number) => median(xs.map(f)) / MB;
    const runs = (xs: ChildResult[]) =>
      xs
        .map(
          (r) =>
            `${fmt(r.peakRss / MB, 1)} MB in ${fmt(r.ms / 1000, 1)} s${r.acknowledged < r.records || r.error ? ` (acknowledged ${fmt(r.acknowledged)}${r.error ? `, ${r.error}` : ''})` : ''}`,
        )
        .join(', ');
    return {
      name: 'memory',
      title: this.title,
      command: 'npm run bench -- memory',
      columns: { tributary: `tributary, ${fmt(LARGE)}`, baseline: `tributary, ${fmt(SMALL)}` },
      rows: [
        {
          measure: 'peak RSS',
          tributary: mb(large, (r) => r.peakRss),
          baseline: mb(small, (r) => r.peakRss),
          unit: 'MB',
          target: { on: 'ratio', op: '<=', value: TARGET_RATIO },
        },
        // Diagnostics: where the RSS goes. Garbage included depends on when the collector ran.
        {
          measure: 'peak heap used (garbage included)',
          tributary: mb(large, (r) => r.peakHeap),
          baseline: mb(small, (r) => r.peakHeap),
          unit: 'MB',
        },
        {
          measure: 'live heap at last ack (after a full GC)',
          tributary: mb(large, (r) => r.liveHeapAtEnd),
          baseline: mb(small, (r) => r.liveHeapAtEnd),
          unit: 'MB',
        },
      ],
      notes: [
        `${fmt(LARGE)}: ${runs(large)}`,
        `${fmt(SMALL)}: ${runs(small)}`,
        `RSS at child start (after imports): ${fmt(
          mb(large, (r) => r.startRss),
          1,
        )} MB; each case in a fresh process, RSS sampled every 50 ms, median of ${RUNS}`,
        'both columns are tributary: the baseline is the same run with a tenth of the backlog; records generated on demand (memorySource generator), ~200 bytes each, 1 shard, batches of 100, default maxBatchesInFlight',
      ],
    };
  },
};
