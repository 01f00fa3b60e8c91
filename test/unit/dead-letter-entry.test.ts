import { createHash } from 'node:crypto';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { entryItem, type DeadLetter } from '../../src/sinks/dead-letters.js';
import { itemSize, MAX_ITEM_BYTES } from '../../src/sinks/item-size.js';

const letter = (record: string, message = 'bad'): DeadLetter => ({
  app: 'a',
  pipeline: 'p',
  stage: 'pipeline',
  code: 'Error',
  message,
  position: { source: 's', shardId: 'shard-1', sequenceNumber: '42' },
  record,
});

describe('dead-letter entry', () => {
  it('keeps a record that fits as it is, unmarked', () => {
    const e = unmarshall(entryItem(letter('{"id":1}'), 'now'));
    expect(e).toMatchObject({ record: '{"id":1}', id: 's#shard-1#42#000000', at: 'now' });
    expect(e.truncated).toBeUndefined();
  });

  it('cuts a record measured in UTF-8 bytes (emoji take 4) to fit the item limit, with its full length and SHA-256', () => {
    // 140,000 emoji: 280,000 UTF-16 units, which a character count lets through; 560,000 bytes.
    const record = '\u{1F600}'.repeat(140_000);
    const item = entryItem(letter(record, 'x'.repeat(100_000)), 'now');
    expect(itemSize(item)).toBeLessThanOrEqual(MAX_ITEM_BYTES);
    const e = unmarshall(item) as {
      record: string;
      message: string;
      truncated: boolean;
      recordBytes: number;
      recordSha256: string;
    };
    expect(e.truncated).toBe(true);
    expect(e.recordBytes).toBe(560_000);
    expect(e.recordSha256).toBe(createHash('sha256').update(record, 'utf8').digest('hex'));
    // Cut between characters, never inside a surrogate pair, and as long as the room allows.
    expect(record.startsWith(e.record)).toBe(true);
    expect(e.record.length % 2).toBe(0);
    expect(Buffer.byteLength(e.record, 'utf8')).toBeGreaterThan(MAX_ITEM_BYTES - 12 * 1024);
    // A thrown error's message is bounded too.
    expect(Buffer.byteLength(e.message, 'utf8')).toBeLessThanOrEqual(8 * 1024);
  });
});
