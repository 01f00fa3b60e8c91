import { describe, expect, it } from 'vitest';
import type { Batch } from '../../src/core/batch.js';
import type { SourceRecord } from '../../src/core/records.js';
import type { ShardReader } from '../../src/core/source.js';
import { ReadAhead } from '../../src/sources/read-ahead.js';

type B = Batch<SourceRecord> & { ended: boolean };
const rec = (n: number): SourceRecord =>
  ({ type: 'memory', position: { source: 's', shardId: 'x', sequenceNumber: String(n) } }) as SourceRecord;
const batch = (seq: number, count: number, ended = false): B => ({
  source: 's',
  shardId: 'x',
  seq,
  records: Array.from({ length: count }, (_, i) => rec(seq * 10 + i)),
  rejected: [],
  checkpoint: undefined,
  ended,
});

/** A reader that answers from a script and says how often it was called, and how many calls overlapped. */
function scripted(script: (B | Error)[]) {
  let calls = 0;
  let open = 0;
  let maxOpen = 0;
  const reader: ShardReader<SourceRecord> = {
    async next() {
      const step = script[calls++];
      open++;
      maxOpen = Math.max(maxOpen, open);
      await new Promise((r) => setTimeout(r, 5));
      open--;
      if (!step) throw new Error('script exhausted');
      if (step instanceof Error) throw step;
      return step;
    },
  };
  return { reader, calls: () => calls, maxOpen: () => maxOpen };
}

const tick = () => new Promise((r) => setTimeout(r, 20));

describe('ReadAhead', () => {
  it('fetches the next batch while the current one is processed, one at a time, in order', async () => {
    const s = scripted([batch(0, 3), batch(1, 2), batch(2, 0), batch(3, 1, true)]);
    const ra = new ReadAhead(s.reader);
    const signal = new AbortController().signal;
    expect((await ra.next(signal)).seq).toBe(0);
    expect(s.calls()).toBe(2); // batch 1 is already on its way
    await tick();
    expect(s.calls()).toBe(2); // never more than one ahead
    expect((await ra.next(signal)).seq).toBe(1);
    expect((await ra.next(signal)).seq).toBe(2);
    await tick();
    expect(s.calls()).toBe(3); // an empty batch (idle shard) is not read ahead
    const last = await ra.next(signal);
    expect([last.seq, last.ended]).toEqual([3, true]);
    await tick();
    expect(s.calls()).toBe(4); // nor is anything after the end
    expect(s.maxOpen()).toBe(1);
  });

  it('throws a failed read-ahead on the next call, and leaves an untaken one unheard', async () => {
    const s = scripted([batch(0, 1), new Error('GetRecords failed')]);
    const ra = new ReadAhead(s.reader);
    const signal = new AbortController().signal;
    await ra.next(signal);
    await tick();
    await expect(ra.next(signal)).rejects.toThrow('GetRecords failed');

    // Stopped consumer: the failure of a fetch nobody takes must not surface as an unhandled rejection.
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const t = scripted([batch(0, 1), new Error('after stop')]);
      await new ReadAhead(t.reader).next(signal);
      await tick();
      await tick();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  it('does not read ahead once the signal is aborted', async () => {
    const s = scripted([batch(0, 1), batch(1, 1)]);
    const ra = new ReadAhead(s.reader);
    const ctl = new AbortController();
    const first = ra.next(ctl.signal);
    ctl.abort();
    await first;
    await tick();
    expect(s.calls()).toBe(1);
  });
});
