import { describe, expect, it } from 'vitest';
import type { Checkpoint } from '../../src/core/position.js';
import type { SourceRecord } from '../../src/core/records.js';
import type { SourceEvent } from '../../src/core/source.js';
import { silentLogger } from '../../src/observe/log.js';
import { Metrics } from '../../src/observe/metrics.js';
import { sourceEventReporter } from '../../src/runtime/source-events.js';
import type { ParsedPage, ReadFailure, ShardAdapter } from '../../src/sources/polling/shard-adapter.js';
import { ShardPoller } from '../../src/sources/polling/shard-poller.js';

/** A page as the scripted service answers it. */
interface Page {
  readonly seqs: readonly string[];
  readonly next: string | undefined;
  readonly lag?: number;
  readonly trimmed?: boolean;
}

const page = (seqs: string[], next: string | undefined, more: Partial<Page> = {}): Page => ({ seqs, next, ...more });
const failure = (name: string): Error => Object.assign(new Error(name), { name });
const FAILURES = new Map<string, ReadFailure>([
  ['Throttled', 'throttled'],
  ['Expired', 'expired'],
  ['Trimmed', 'trimmed'],
  ['Gone', 'gone'],
]);

/** An adapter that answers from scripts and remembers what it was asked. */
class ScriptedAdapter implements ShardAdapter<SourceRecord, Page> {
  // The loop's pacing is the adapter's: keep the test's waits short.
  readonly pacing = { minIntervalMs: 0, idleStartMs: 1, idleMaxMs: 2 };
  readonly acquiredFrom: Checkpoint[] = [];
  readonly readWith: string[] = [];

  constructor(
    private readonly reads: (Page | Error)[],
    private readonly iterators: (string | Error)[] = ['it-0'],
  ) {}

  async iterator(from: Checkpoint): Promise<string | undefined> {
    this.acquiredFrom.push(from);
    const step = this.iterators.shift();
    if (step === undefined) throw new Error('script exhausted');
    if (step instanceof Error) throw step;
    return step;
  }

  async getRecords(iterator: string): Promise<Page> {
    this.readWith.push(iterator);
    const step = this.reads.shift();
    if (!step) throw new Error('script exhausted');
    if (step instanceof Error) throw step;
    return step;
  }

  parse(p: Page): ParsedPage<SourceRecord> {
    const records = p.seqs.map(
      (sequenceNumber) => ({ type: 'memory', position: { source: 's', shardId: 'x', sequenceNumber } }) as SourceRecord,
    );
    const last = p.seqs[p.seqs.length - 1];
    return {
      records,
      rejected: [],
      nextIterator: p.next,
      resumeFrom: last === undefined ? undefined : { kind: 'sequence', sequenceNumber: last, subSequenceNumber: 0 },
      behind: records.length > 0,
      millisBehind: p.lag,
      trimmed: p.trimmed ?? false,
    };
  }

  classify(error: unknown): ReadFailure | undefined {
    return FAILURES.get((error as Error).name);
  }
}

/** A poller over `adapter` whose events land in a `Metrics` through the runtime's reporter, and in a list. */
function poll(adapter: ScriptedAdapter, from: Checkpoint = { kind: 'TRIM_HORIZON' }) {
  const metrics = new Metrics();
  const events: SourceEvent[] = [];
  const report = sourceEventReporter(metrics, silentLogger);
  const poller = new ShardPoller(adapter, { source: 'orders', shardId: 'shard-1' }, from, (e) => {
    events.push(e);
    report(e);
  });
  const labels = { source: 'orders', shard: 'shard-1' };
  return { poller, metrics, events, labels };
}

const signal = new AbortController().signal;
const seqs = (b: { records: readonly SourceRecord[] }) => b.records.map((r) => r.position.sequenceNumber);

describe('ShardPoller', () => {
  it('counts a throttled read under its source and shard, and reads the same iterator again', async () => {
    const adapter = new ScriptedAdapter([failure('Throttled'), failure('Throttled'), page(['1', '2'], 'it-1')]);
    const { poller, metrics, events, labels } = poll(adapter);

    const batch = await poller.next(signal);

    expect(seqs(batch)).toEqual(['1', '2']);
    expect(batch.checkpoint).toEqual({ kind: 'sequence', sequenceNumber: '2', subSequenceNumber: 0 });
    expect(adapter.readWith).toEqual(['it-0', 'it-0', 'it-0']);
    expect(await metrics.get('tributary_read_throttled_total', labels)).toBe(2);
    expect(events.filter((e) => e.type === 'throttled')).toEqual([
      { type: 'throttled', source: 'orders', shardId: 'shard-1' },
      { type: 'throttled', source: 'orders', shardId: 'shard-1' },
    ]);
  });

  it('acquires an expired iterator again after the last record handed out', async () => {
    const adapter = new ScriptedAdapter(
      [page(['1', '2'], 'it-a'), failure('Expired'), page(['3'], undefined)],
      ['it-0', 'it-1'],
    );
    const { poller, metrics, labels } = poll(adapter);

    expect(seqs(await poller.next(signal))).toEqual(['1', '2']);
    const last = await poller.next(signal);

    expect(seqs(last)).toEqual(['3']);
    expect([last.checkpoint, last.ended]).toEqual([{ kind: 'SHARD_END' }, true]);
    expect(adapter.acquiredFrom).toEqual([
      { kind: 'TRIM_HORIZON' },
      { kind: 'sequence', sequenceNumber: '2', subSequenceNumber: 0 },
    ]);
    expect(adapter.readWith).toEqual(['it-0', 'it-a', 'it-1']);
    expect(await metrics.get('tributary_iterator_expired_total', labels)).toBe(1);
  });

  it('reports the lag of each page with its batch and its fetched event', async () => {
    const adapter = new ScriptedAdapter([page(['1'], 'it-1', { lag: 1500 }), page(['2'], 'it-2', { lag: 0 })]);
    const { poller, events } = poll(adapter);

    expect((await poller.next(signal)).millisBehind).toBe(1500);
    expect((await poller.next(signal)).millisBehind).toBe(0);
    expect(events.filter((e) => e.type === 'fetched')).toEqual([
      { type: 'fetched', source: 'orders', shardId: 'shard-1', count: 1, millisBehind: 1500 },
      { type: 'fetched', source: 'orders', shardId: 'shard-1', count: 1, millisBehind: 0 },
    ]);
  });

  it('reads on from the trim horizon when its position was trimmed, reporting the position it lost', async () => {
    const from: Checkpoint = { kind: 'sequence', sequenceNumber: '5', subSequenceNumber: 0 };
    const trimmedData = { type: 'trimmedData', source: 'orders', shardId: 'shard-1', checkpoint: from };

    // The service refuses the position (DynamoDB Streams' TrimmedDataAccessException).
    const refusing = new ScriptedAdapter([failure('Trimmed'), page(['9'], 'it-2')], ['it-0', 'it-1']);
    const a = poll(refusing, from);
    expect(seqs(await a.poller.next(signal))).toEqual(['9']);
    expect(refusing.acquiredFrom).toEqual([from, { kind: 'TRIM_HORIZON' }]);
    expect(a.events.filter((e) => e.type === 'trimmedData')).toEqual([trimmedData]);
    expect(await a.metrics.get('tributary_trimmed_data_total', a.labels)).toBe(1);

    // The service answers from further on (Kinesis, read AT the checkpointed sequence): the page shows the gap.
    const skipping = new ScriptedAdapter([page(['9'], 'it-1', { trimmed: true })]);
    const b = poll(skipping, from);
    expect(seqs(await b.poller.next(signal))).toEqual(['9']);
    expect(b.events.filter((e) => e.type === 'trimmedData')).toEqual([trimmedData]);
    expect(await b.metrics.get('tributary_trimmed_data_total', b.labels)).toBe(1);
  });

  it('ends a shard that is gone when its iterator is asked for, but fails one that goes away while read', async () => {
    const from: Checkpoint = { kind: 'sequence', sequenceNumber: '5', subSequenceNumber: 0 };
    const gone = new ScriptedAdapter([], [failure('Trimmed'), failure('Gone')]);
    const { poller, events } = poll(gone, from);
    const batch = await poller.next(signal);
    expect([batch.records.length, batch.checkpoint, batch.ended]).toEqual([0, { kind: 'SHARD_END' }, true]);
    // The checkpoint was trimmed away (lost records); the shard then aged out from the trim horizon (nothing more).
    expect(events.map((e) => e.type)).toEqual(['trimmedData']);

    const failing = poll(new ScriptedAdapter([failure('Gone')]));
    await expect(failing.poller.next(signal)).rejects.toThrow('Gone');
  });

  it('reports no trimmed data when nothing was checkpointed: a start from TRIM_HORIZON loses nothing', async () => {
    // The service refuses the iterator, the read, then the shard is gone: each time from the trim horizon.
    const adapter = new ScriptedAdapter(
      [failure('Trimmed'), page(['1'], 'it-2')],
      [failure('Trimmed'), 'it-0', 'it-1'],
    );
    const { poller, metrics, events, labels } = poll(adapter);

    expect(seqs(await poller.next(signal))).toEqual(['1']);
    const aged = poll(new ScriptedAdapter([], [failure('Gone')]));
    expect((await aged.poller.next(signal)).checkpoint).toEqual({ kind: 'SHARD_END' });

    expect(events.filter((e) => e.type === 'trimmedData')).toEqual([]);
    expect(aged.events.filter((e) => e.type === 'trimmedData')).toEqual([]);
    expect(await metrics.get('tributary_trimmed_data_total', labels)).toBe(0);
  });

  it('hands out an empty batch when an empty page brings the lag to 0, once, without a checkpoint', async () => {
    const adapter = new ScriptedAdapter([
      page(['1'], 'it-1', { lag: 59_000 }),
      page([], 'it-2', { lag: 0 }),
      page([], 'it-3', { lag: 0 }),
      page(['2'], 'it-4', { lag: 0 }),
    ]);
    const { poller } = poll(adapter);

    expect((await poller.next(signal)).millisBehind).toBe(59_000);
    const caughtUp = await poller.next(signal);
    expect([caughtUp.records.length, caughtUp.checkpoint, caughtUp.ended, caughtUp.millisBehind]).toEqual([
      0,
      undefined,
      false,
      0,
    ]);
    // The second empty page at the same lag says nothing new: the poller reads on to the next record.
    expect(seqs(await poller.next(signal))).toEqual(['2']);
    expect(adapter.readWith).toEqual(['it-0', 'it-1', 'it-2', 'it-3']);
  });

  it('polls again after an empty page and retries a transient error, returning only pages with records', async () => {
    const adapter = new ScriptedAdapter([page([], 'it-1'), failure('InternalServerError'), page(['1'], 'it-2')]);
    const { poller, events } = poll(adapter);

    const batch = await poller.next(signal);

    expect([batch.seq, seqs(batch)]).toEqual([0, ['1']]);
    expect(adapter.readWith).toEqual(['it-0', 'it-1', 'it-1']);
    expect(events.map((e) => e.type)).toEqual(['fetched']);
  });

  it('returns an empty batch, without reading, once the signal is aborted', async () => {
    const adapter = new ScriptedAdapter([page(['1'], 'it-1')]);
    const { poller } = poll(adapter);
    const ctl = new AbortController();
    ctl.abort();

    const batch = await poller.next(ctl.signal);

    expect([batch.records.length, batch.checkpoint, batch.ended]).toEqual([0, undefined, false]);
    expect(adapter.readWith).toEqual([]);
  });
});
