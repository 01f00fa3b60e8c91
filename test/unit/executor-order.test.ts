import { map, mergeMap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../src/core/batch.js';
import { pipeline, type PipelineDef } from '../../src/core/pipeline.js';
import type { Sink } from '../../src/core/sink.js';
import { silentLogger } from '../../src/observe/log.js';
import { Metrics } from '../../src/observe/metrics.js';
import type { DeadLetter } from '../../src/sinks/dead-letters.js';
import { PipelineExecutor } from '../../src/runtime/pipeline-executor.js';
import { memorySource, type MemoryRecord } from '../../src/testing/memory-source.js';
import { memoryDeadLetters } from '../helpers.js';

/** A write of `value` to `key`; the sinks below keep the last value written per key. */
interface Put {
  readonly key: string;
  readonly value: number;
}

let seq = 0;
const batchOf = (puts: Put[]): Batch<MemoryRecord<Put>> => ({
  source: 'n',
  shardId: 's',
  seq: seq++,
  records: puts.map((value) => ({
    type: 'memory',
    value,
    position: { source: 'n', shardId: 's', sequenceNumber: String(++seq) },
  })),
  rejected: [],
  checkpoint: undefined,
});

/**
 * A last-writer-wins table that applies calls in the order it receives them, as the table writer
 * does per shard, and becomes durable a few ticks later; it can refuse chosen calls once.
 */
class OrderedTable implements Sink<Put> {
  readonly name = 'ordered';
  readonly items = new Map<string, number>();
  private tail: Promise<void> = Promise.resolve();
  constructor(private readonly refuseOnce: (outs: readonly Put[]) => boolean = () => false) {}

  write(outs: readonly Put[]): Promise<void> {
    const refuse = this.refuseOnce(outs);
    const done = this.tail.then(async () => {
      for (let i = 0; i < 3; i++) await Promise.resolve();
      if (refuse) throw Object.assign(new Error('refused once'), { name: 'ValidationException' });
      for (const o of outs) this.items.set(o.key, o.value);
    });
    this.tail = done.catch(() => undefined);
    return done;
  }
}

function executor(def: PipelineDef, letters: DeadLetter[] = [], metrics = new Metrics()) {
  return new PipelineExecutor(def, { app: 'a', deadLetters: memoryDeadLetters(letters), metrics, log: silentLogger });
}

describe('PipelineExecutor keeps the order of writes per key across batches', () => {
  it('a record whose operator fails once in batch N is re-applied before batch N+1 writes the same key', async () => {
    const table = new OrderedTable();
    let failed = false;
    const def = pipeline('p')
      .from(memorySource<Put>('n', []))
      .pipe(
        map((r) => {
          if (r.value.value === 1 && !failed) {
            failed = true;
            throw new Error('flaky once');
          }
          return r.value;
        }),
      )
      .to(table);
    const metrics = new Metrics();
    const x = executor(def, [], metrics);
    // Both batches in flight at once, as the shard worker sends them (maxBatchesInFlight > 1).
    await Promise.all([x.process(batchOf([{ key: 'k', value: 1 }])), x.process(batchOf([{ key: 'k', value: 2 }]))]);
    expect(failed).toBe(true);
    expect(table.items.get('k')).toBe(2);
    expect(await metrics.get('tributary_records_applied_total', { pipeline: 'p' })).toBe(2);
  });

  it('a write a sink refuses once for batch N is retried before batch N+1 writes the same key', async () => {
    let refused = false;
    const table = new OrderedTable((outs) => {
      if (refused || !outs.some((o) => o.value === 1)) return false;
      return (refused = true);
    });
    const def = pipeline('p')
      .from(memorySource<Put>('n', []))
      .pipe(map((r) => r.value))
      .to(table);
    const x = executor(def);
    await Promise.all([
      x.process(
        batchOf([
          { key: 'k', value: 1 },
          { key: 'j', value: 10 },
        ]),
      ),
      x.process(batchOf([{ key: 'k', value: 2 }])),
    ]);
    expect(refused).toBe(true);
    expect(table.items.get('k')).toBe(2);
    expect(table.items.get('j')).toBe(10);
  });

  it('asynchronous operators hand batches to the sink in batch order, however long each takes', async () => {
    const table = new OrderedTable();
    const def = pipeline('p')
      .from(memorySource<Put>('n', []))
      // Batch N's operator takes longer than batch N+1's.
      .pipe(
        mergeMap(async (r) => {
          for (let i = 0; i < 20 - r.value.value * 10; i++) await Promise.resolve();
          return r.value;
        }),
      )
      .to(table);
    const x = executor(def);
    await Promise.all([x.process(batchOf([{ key: 'k', value: 1 }])), x.process(batchOf([{ key: 'k', value: 2 }]))]);
    expect(table.items.get('k')).toBe(2);
  });

  it('a record dead-lettered in batch N leaves the rest of N applied before N+1, and counts once', async () => {
    const letters: DeadLetter[] = [];
    const metrics = new Metrics();
    const table = new OrderedTable((outs) => outs.some((o) => o.key === 'poison'));
    const def = pipeline('p')
      .from(memorySource<Put>('n', []))
      .pipe(map((r) => r.value))
      .to(table);
    const x = executor(def, letters, metrics);
    await Promise.all([
      x.process(
        batchOf([
          { key: 'k', value: 1 },
          { key: 'poison', value: 0 },
          { key: 'j', value: 1 },
        ]),
      ),
      x.process(
        batchOf([
          { key: 'k', value: 2 },
          { key: 'j', value: 2 },
        ]),
      ),
    ]);
    expect(table.items.get('k')).toBe(2);
    expect(table.items.get('j')).toBe(2);
    expect(letters.map((l) => l.code)).toEqual(['ValidationException']);
    expect((await metrics.get('tributary_records_applied_total', { pipeline: 'p' })) + letters.length).toBe(5);
  });

  it('a sink that declares its effects order-free still coalesces across batches: batch N+1 reaches it before N is durable', async () => {
    const calls: number[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const counter: Sink<Put> = {
      name: 'counter',
      commutative: true,
      write: (outs) => {
        calls.push(outs[0]!.value);
        return held;
      },
    };
    const def = pipeline('p')
      .from(memorySource<Put>('n', []))
      .pipe(map((r) => r.value))
      .to(counter);
    const x = executor(def);
    const both = Promise.all([
      x.process(batchOf([{ key: 'k', value: 1 }])),
      x.process(batchOf([{ key: 'k', value: 2 }])),
    ]);
    for (let i = 0; i < 50 && calls.length < 2; i++) await Promise.resolve();
    expect(calls).toEqual([1, 2]);
    release();
    await both;
  });
});
