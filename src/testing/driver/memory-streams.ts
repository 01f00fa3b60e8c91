import { randomUUID } from 'node:crypto';
import { sameItem } from '../../core/item-canonical.js';
import type { ShardTip } from '../caught-up.js';
import { decodeIterator, encodeIterator, type WireAnswer, type WireItem } from './wire.js';

/** A wire item as the SDK's item type (the same shape; binaries are base64 text on both sides), for the project's item comparison. */
const asItem = (i: WireItem) => i as unknown as Parameters<typeof sameItem>[0];

export type StreamViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';

interface StreamShard {
  readonly shardId: string;
  readonly parent?: string;
  readonly records: Record<string, unknown>[];
  readonly startingSequence: string;
  /** Set once the shard is closed (split): no record is added after it. */
  endingSequence?: string;
}

/** One table's stream. */
export interface MemoryStream {
  readonly table: string;
  readonly arn: string;
  readonly label: string;
  readonly viewType: StreamViewType;
  readonly keys: readonly string[];
  readonly shards: StreamShard[];
  enabled: boolean;
}

interface Iterator {
  readonly arn: string;
  readonly shardId: string;
  /** Index of the next record in the shard's records. */
  readonly next: number;
}

const error = (type: string, message: string): WireAnswer => ({
  status: 400,
  body: { __type: `com.amazonaws.dynamodb.v20120810#${type}`, message },
});

/**
 * DynamoDB Streams in memory, for the test driver: each table with a stream gets one, with the
 * record of every write that changed an item (none for a write that changed nothing, as
 * DynamoDB), its keys and the images of its view type, sequence numbers increasing in each
 * shard, and `userIdentity` on time-to-live removals. `split(table)` closes the open shard and
 * starts a child, as DynamoDB rotates shards. Serves DescribeStream, ListStreams,
 * GetShardIterator and GetRecords.
 *
 * @example
 * ```ts
 * const streams = new MemoryStreams('us-east-1');
 * streams.enable('orders', 'NEW_AND_OLD_IMAGES');
 * streams.record('orders', ['id'], undefined, { id: { S: 'o1' } }); // an INSERT
 * ```
 */
export class MemoryStreams {
  private readonly byTable = new Map<string, MemoryStream>();
  private readonly byArn = new Map<string, MemoryStream>();
  private sequence = 10n ** 20n;
  private shardCount = 0;

  constructor(private readonly region: string) {}

  enable(table: string, viewType: StreamViewType, keys: readonly string[] = []): MemoryStream {
    const existing = this.byTable.get(table);
    if (existing?.enabled) return existing;
    const label = new Date().toISOString().replace(/Z$/, '');
    const stream: MemoryStream = {
      table,
      arn: `arn:aws:dynamodb:${this.region}:000000000000:table/${table}/stream/${label}`,
      label,
      viewType,
      keys,
      shards: [],
      enabled: true,
    };
    stream.shards.push(this.newShard());
    this.byTable.set(table, stream);
    this.byArn.set(stream.arn, stream);
    return stream;
  }

  disable(table: string): void {
    const s = this.byTable.get(table);
    if (!s) return;
    s.enabled = false;
    const open = s.shards.at(-1)!;
    open.endingSequence ??= this.lastSequence(open);
    this.byTable.delete(table);
  }

  of(table: string): MemoryStream | undefined {
    return this.byTable.get(table);
  }

  /** Every shard of every stream (a disabled one included) and its last record's sequence number. */
  tips(): ShardTip[] {
    return [...this.byArn.values()].flatMap((s) =>
      s.shards.map((sh) => {
        const last = sh.records.at(-1);
        return { stream: s.table, shardId: sh.shardId, ...(last ? { last: sequenceOf(last) } : {}) };
      }),
    );
  }

  /** Closes the table's open shard and opens its child; records from now on go to the child. */
  split(table: string): string {
    const s = this.byTable.get(table)!;
    const open = s.shards.at(-1)!;
    open.endingSequence = this.lastSequence(open);
    const child = this.newShard(open.shardId);
    s.shards.push(child);
    return child.shardId;
  }

  /** The stream record of a write from `before` to `after` (undefined: no item), if it changed anything. */
  record(
    table: string,
    keyNames: readonly string[],
    before: WireItem | undefined,
    after: WireItem | undefined,
    opts: { ttl?: boolean } = {},
  ): void {
    const s = this.byTable.get(table);
    if (!s?.enabled || (before === undefined && after === undefined)) return;
    if (before && after && sameItem(asItem(before), asItem(after))) return;
    const item = (after ?? before)!;
    const keys = Object.fromEntries(keyNames.map((k) => [k, item[k]!]));
    const seq = String(++this.sequence);
    const images: Record<string, unknown> = { Keys: keys };
    if ((s.viewType === 'NEW_IMAGE' || s.viewType === 'NEW_AND_OLD_IMAGES') && after) images.NewImage = after;
    if ((s.viewType === 'OLD_IMAGE' || s.viewType === 'NEW_AND_OLD_IMAGES') && before) images.OldImage = before;
    s.shards.at(-1)!.records.push({
      eventID: randomUUID().replace(/-/g, ''),
      eventName: !before ? 'INSERT' : !after ? 'REMOVE' : 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: this.region,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
        ...images,
        SequenceNumber: seq,
        SizeBytes: Buffer.byteLength(JSON.stringify(images)),
        StreamViewType: s.viewType,
      },
      ...(opts.ttl ? { userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } } : {}),
    });
  }

  /** Answers a DynamoDB Streams request. */
  call(operation: string, body: Record<string, unknown>): WireAnswer {
    switch (operation) {
      case 'ListStreams': {
        const table = body.TableName as string | undefined;
        const streams = [...this.byArn.values()]
          .filter((s) => !table || s.table === table)
          .map((s) => ({ StreamArn: s.arn, TableName: s.table, StreamLabel: s.label }));
        return { status: 200, body: { Streams: streams } };
      }
      case 'DescribeStream': {
        const s = this.byArn.get(String(body.StreamArn));
        if (!s)
          return error(
            'ResourceNotFoundException',
            `Requested resource not found: Stream: ${String(body.StreamArn)} not found`,
          );
        return {
          status: 200,
          body: {
            StreamDescription: {
              StreamArn: s.arn,
              StreamLabel: s.label,
              StreamStatus: s.enabled ? 'ENABLED' : 'DISABLED',
              StreamViewType: s.viewType,
              TableName: s.table,
              KeySchema: [],
              CreationRequestDateTime: Math.floor(Date.now() / 1000),
              Shards: s.shards.map((sh) => ({
                ShardId: sh.shardId,
                ...(sh.parent ? { ParentShardId: sh.parent } : {}),
                SequenceNumberRange: {
                  StartingSequenceNumber: sh.startingSequence,
                  ...(sh.endingSequence ? { EndingSequenceNumber: sh.endingSequence } : {}),
                },
              })),
            },
          },
        };
      }
      case 'GetShardIterator':
        return this.getShardIterator(body);
      case 'GetRecords':
        return this.getRecords(body);
      default:
        return error('UnknownOperationException', `the test driver does not implement ${operation}`);
    }
  }

  private getShardIterator(body: Record<string, unknown>): WireAnswer {
    const s = this.byArn.get(String(body.StreamArn));
    const shard = s?.shards.find((sh) => sh.shardId === body.ShardId);
    if (!s || !shard) return error('ResourceNotFoundException', 'Requested resource not found: Shard does not exist');
    const seqIndex = (seq: string) => shard.records.findIndex((r) => sequenceOf(r) === seq);
    let next: number;
    switch (body.ShardIteratorType) {
      case 'TRIM_HORIZON':
        next = 0;
        break;
      case 'LATEST':
        next = shard.records.length;
        break;
      case 'AT_SEQUENCE_NUMBER':
      case 'AFTER_SEQUENCE_NUMBER': {
        const seq = String(body.SequenceNumber);
        let i = seqIndex(seq);
        if (i < 0) {
          // A sequence number between records: start at the first after it.
          i = shard.records.findIndex((r) => compare(sequenceOf(r), seq) > 0);
          next = i < 0 ? shard.records.length : i;
        } else next = body.ShardIteratorType === 'AT_SEQUENCE_NUMBER' ? i : i + 1;
        break;
      }
      default:
        return error('ValidationException', `Invalid ShardIteratorType: ${String(body.ShardIteratorType)}`);
    }
    return { status: 200, body: { ShardIterator: encode({ arn: s.arn, shardId: shard.shardId, next }) } };
  }

  private getRecords(body: Record<string, unknown>): WireAnswer {
    const it = decode(String(body.ShardIterator));
    const s = it && this.byArn.get(it.arn);
    const shard = s?.shards.find((sh) => sh.shardId === it!.shardId);
    if (!it || !shard) return error('ValidationException', 'Invalid ShardIterator');
    const limit = Math.min(1000, Number(body.Limit ?? 1000));
    const records = shard.records.slice(it.next, it.next + limit);
    const next = it.next + records.length;
    const closed = shard.endingSequence !== undefined && next >= shard.records.length;
    return {
      status: 200,
      body: { Records: records, ...(closed ? {} : { NextShardIterator: encode({ ...it, next }) }) },
    };
  }

  private newShard(parent?: string): StreamShard {
    const n = ++this.shardCount;
    return {
      shardId: `shardId-${String(Date.now()).padStart(20, '0')}-${String(n).padStart(8, '0')}`,
      ...(parent ? { parent } : {}),
      records: [],
      startingSequence: String(this.sequence + 1n),
    };
  }

  private lastSequence(shard: StreamShard): string {
    const last = shard.records.at(-1);
    return last ? sequenceOf(last) : shard.startingSequence;
  }
}

const sequenceOf = (r: Record<string, unknown>): string => (r.dynamodb as { SequenceNumber: string }).SequenceNumber;

const compare = (a: string, b: string): number =>
  a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;

const encode = (it: Iterator): string => encodeIterator(it);
const decode = (token: string): Iterator | undefined => decodeIterator<Iterator>(token) as Iterator | undefined;
