import { map } from 'rxjs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../src/core/batch.js';
import { pipeline } from '../../src/core/pipeline.js';
import type { SourceRecord } from '../../src/core/records.js';
import { silentLogger } from '../../src/observe/log.js';
import { METRICS } from '../../src/observe/metric-defs.js';
import { Metrics } from '../../src/observe/metrics.js';
import { PipelineExecutor } from '../../src/runtime/pipeline-executor.js';
import { memorySource } from '../../src/testing/memory-source.js';
import { memoryDeadLetters } from '../helpers.js';

/** A batch of Kinesis-shaped records whose arrival times are given, in epoch ms. */
const batchArrivedAt = (times: (number | undefined)[]): Batch => ({
  source: 'clicks',
  shardId: 's',
  seq: 0,
  records: times.map((t, i): SourceRecord => ({
    ...(t === undefined ? {} : { arrivalTime: new Date(t) }),
    position: { source: 'clicks', shardId: 's', sequenceNumber: String(i + 1) },
  })),
  rejected: [],
  checkpoint: undefined,
});

/** The value of one sample of the registry's text exposition (NaN when absent). */
const sample = (text: string, series: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
};

describe('Metrics', () => {
  it('names follow Prometheus conventions: _total on counters, base units, _seconds on histograms', () => {
    for (const [name, def] of Object.entries(METRICS)) {
      expect(name).toMatch(/^tributary_[a-z_]+$/);
      expect(name).not.toMatch(/millis|_ms\b|minutes/);
      if (def.type === 'counter') expect(name).toMatch(/_total$/);
      else expect(name).not.toMatch(/_total$/);
      if (def.type === 'histogram') expect(name).toMatch(/_seconds$/);
    }
  });

  it('keeps each runner in its own registry, or in the one the user passes', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.inc('tributary_records_in_total', { pipeline: 'p' }, 3);
    expect(await a.get('tributary_records_in_total', { pipeline: 'p' })).toBe(3);
    expect(await b.get('tributary_records_in_total', { pipeline: 'p' })).toBe(0);

    const registry = new Registry();
    const mine = new Metrics({ registry });
    mine.inc('tributary_dead_letters_total', { pipeline: 'p', stage: 'sink' }, 2);
    mine.inc('tributary_dead_letters_total', { pipeline: 'q', stage: 'decode' });
    mine.set('tributary_behind_seconds', { source: 'clicks', shard: 's' }, 1.5);
    const text = await registry.metrics();
    expect(sample(text, 'tributary_dead_letters_total{pipeline="p",stage="sink"}')).toBe(2);
    expect(sample(text, 'tributary_behind_seconds{source="clicks",shard="s"}')).toBe(1.5);
    expect(await mine.sum('tributary_dead_letters_total')).toBe(3);
    expect(await mine.sum('tributary_dead_letters_total', { stage: 'decode' })).toBe(1);
    expect(() => new Metrics({ registry })).toThrow(/already been registered/);
  });

  it('observes per batch: processing and sink write seconds, and end to end from the oldest record', async () => {
    const registry = new Registry();
    const metrics = new Metrics({ registry });
    const def = pipeline('p')
      .from(memorySource<number>('clicks', []))
      .pipe(map(() => 1))
      .to({ name: 'counts', write: async () => {} }, { name: 'audit', write: async () => {} });
    const x = new PipelineExecutor(def, { app: 'a', deadLetters: memoryDeadLetters(), metrics, log: silentLogger });
    const minuteAgo = Date.now() - 60_000;
    await x.process(batchArrivedAt([minuteAgo, minuteAgo + 30_000, minuteAgo + 50_000]));
    await x.process(batchArrivedAt([undefined, undefined]));

    const text = await registry.metrics();
    expect(sample(text, 'tributary_batch_processing_seconds_count{pipeline="p"}')).toBe(2);
    expect(sample(text, 'tributary_sink_write_seconds_count{pipeline="p",sink="counts"}')).toBe(2);
    expect(sample(text, 'tributary_sink_write_seconds_count{pipeline="p",sink="audit"}')).toBe(2);
    // One observation for the batch, its first record's age; none for records without a time.
    expect(sample(text, 'tributary_end_to_end_seconds_count{pipeline="p"}')).toBe(1);
    expect(sample(text, 'tributary_end_to_end_seconds_sum{pipeline="p"}')).toBeGreaterThanOrEqual(60);
    expect(sample(text, 'tributary_end_to_end_seconds_bucket{le="30",pipeline="p"}')).toBe(0);
  });
});
