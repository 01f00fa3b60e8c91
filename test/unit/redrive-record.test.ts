import { describe, expect, it } from 'vitest';
import { parseSince } from '../../src/cli/dead-letters.js';
import { app, json, kinesisStream, pipeline, put, tableWriter } from '../../src/index.js';
import { redriveBlocker, reviveRecord } from '../../src/runtime/redrive.js';
import { recordJson } from '../../src/core/record-json.js';
import type { StoredDeadLetter } from '../../src/sinks/dead-letter-entries.js';
import { map } from 'rxjs';

const position = { source: 's', shardId: 'shard-1', sequenceNumber: '42', subSequenceNumber: 0 };

describe('redrive records', () => {
  it('revives what recordJson wrote: the times as Dates, the position from the entry', () => {
    const record = {
      type: 'kinesis',
      value: { id: 'a', n: 1 },
      partitionKey: 'k',
      arrivalTime: new Date('2026-12-01T10:00:00.000Z'),
      position,
      sizeBytes: 10,
    };
    const revived = reviveRecord(recordJson(record), { ...position, sequenceNumber: '43' });
    expect(revived).toEqual({ ...record, position: { ...position, sequenceNumber: '43' } });
    expect((revived as unknown as { arrivalTime: Date }).arrivalTime).toBeInstanceOf(Date);
    expect(reviveRecord('{"id":', position)).toBeUndefined();
    expect(reviveRecord('[1]', position)).toBeUndefined();
  });

  it('says why an entry cannot be redriven', () => {
    const def = app('a', [
      pipeline('p')
        .from(kinesisStream('s', { decode: json<{ id: string }>() }))
        .pipe(map((r) => put({ id: r.value.id })))
        .to(tableWriter('t')),
    ]);
    const entry = (e: Partial<StoredDeadLetter>): StoredDeadLetter => ({
      pipeline: 'p',
      id: 'x',
      position,
      record: '{"value":{"id":"a"}}',
      ...e,
    });
    expect(redriveBlocker(def, entry({}))).toBeUndefined();
    expect(redriveBlocker(def, entry({ redrivenAt: '2026-12-01T00:00:00Z' }))).toMatch(/already redriven/);
    expect(redriveBlocker(def, entry({ pipeline: 'source:s' }))).toMatch(/rejected by its source/);
    expect(redriveBlocker(def, entry({ pipeline: 'gone' }))).toMatch(/not in the app/);
    expect(redriveBlocker(def, entry({ record: undefined }))).toMatch(/minimal entry/);
    expect(redriveBlocker(def, entry({ truncated: true }))).toMatch(/truncated/);
    expect(redriveBlocker(def, entry({ record: '{"value":' }))).toMatch(/not JSON/);
  });

  it('reads --since as an ISO time or a duration back from now', () => {
    const now = Date.parse('2026-12-02T12:00:00Z');
    expect(parseSince('1h', now).toISOString()).toBe('2026-12-02T11:00:00.000Z');
    expect(parseSince('2026-12-01T08:30:00Z', now).toISOString()).toBe('2026-12-01T08:30:00.000Z');
    expect(() => parseSince('yesterday', now)).toThrow(/--since must be an ISO time or a duration/);
  });
});
