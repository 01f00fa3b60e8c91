import { cpus, loadavg } from 'node:os';
import { backpressure } from './backpressure.js';
import { capacity } from './capacity.js';
import { counters } from './counters.js';
import { driver } from './driver.js';
import { ownerThingsBench } from './owner-things.js';
import { exactlyOnce } from './exactly-once.js';
import { latency } from './latency.js';
import { memory } from './memory.js';
import { overhead } from './overhead.js';
import { peerLambdaStream } from './peer-lambda-stream.js';
import { renderResult, type Benchmark } from './lib/report.js';
import { streamRead } from './stream-read.js';

/**
 * Runs the benchmarks one after another (never in parallel: they would measure each other), or
 * only those named: `npm run bench -- overhead memory`.
 */
const all: readonly Benchmark[] = [
  overhead,
  streamRead,
  memory,
  peerLambdaStream,
  counters,
  exactlyOnce,
  capacity,
  backpressure,
  latency,
  driver,
  ownerThingsBench,
];

const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = names.filter((n) => !all.some((b) => b.name === n));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${all.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
const chosen = names.length ? all.filter((b) => names.includes(b.name)) : all;

console.log(`tributary benchmarks — ${new Date().toISOString()} — node ${process.version}, ${cpus().length} cores`);
let failed = 0;
for (const b of chosen) {
  console.error(`running ${b.name}: ${b.title}`);
  const load = loadavg()[0]!.toFixed(2);
  try {
    const result = await b.run();
    // The machine is shared: a busy neighbour shows here before it shows as a slow figure.
    const notes = [...result.notes, `load average (1 min) before: ${load}, after: ${loadavg()[0]!.toFixed(2)}`];
    console.log(renderResult({ ...result, notes }));
  } catch (e) {
    failed++;
    console.log(
      `\n== ${b.name}: could not run: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n  reproduce: npm run bench -- ${b.name}`,
    );
  }
}
// A stopped Runner may leave a timer pending (its lease-round timer is not unref'd), which
// would keep the process alive for a while after the last benchmark.
process.exit(failed ? 1 : 0);
