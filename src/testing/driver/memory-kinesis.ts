import { createHash } from 'node:crypto';
import { decodeIterator, encodeIterator, type WireAnswer } from './wire.js';
import type { ShardTip } from '../caught-up.js';

const MAX_HASH = 2n ** 128n - 1n;

interface KinesisShard {
  readonly shardId: string;
  readonly parents: readonly string[];
  readonly start: bigint;
  readonly end: bigint;
  readonly startingSequence: string;
  endingSequence?: string;
  readonly records: {
    readonly SequenceNumber: string;
    readonly ApproximateArrivalTimestamp: number;
    readonly Data: string;
    readonly PartitionKey: string;
  }[];
}

interface KinesisStream {
  readonly name: string;
  readonly arn: string;
  readonly shards: KinesisShard[];
  readonly created: number;
}

interface Iterator {
  readonly stream: string;
  readonly shardId: string;
  readonly next: number;
}

const error = (type: string, message: string): WireAnswer => ({ status: 400, body: { __type: type, message } });

/**
 * Kinesis Data Streams in memory, for the test driver: streams of shards over the 128-bit hash
 * key space, records routed by the MD5 of their partition key (or an explicit hash key), sequence
 * numbers increasing in each shard, and shard splits (`SplitShard`, `UpdateShardCount`) that
 * close a parent and open children, as Kinesis does. Serves the calls tributary's Kinesis source
 * and sinks make.
 *
 * @example
 * ```ts
 * const kinesis = new MemoryKinesis('us-east-1');
 * kinesis.call('CreateStream', { StreamName: 'clicks', ShardCount: 2 });
 * kinesis.call('PutRecord', { StreamName: 'clicks', PartitionKey: 'u1', Data: Buffer.from('{}').toString('base64') });
 * ```
 */
export class MemoryKinesis {
  private readonly streams = new Map<string, KinesisStream>();
  private sequence = 10n ** 55n;
  private shardCount = 0;

  constructor(private readonly region: string) {}

  call(operation: string, body: Record<string, unknown>): WireAnswer {
    if (operation === 'CreateStream') return this.create(String(body.StreamName), Number(body.ShardCount ?? 1));
    if (operation === 'ListStreams')
      return { status: 200, body: { StreamNames: [...this.streams.keys()], HasMoreStreams: false } };
    if (operation === 'GetRecords') return this.getRecords(body);
    const s = this.stream(body);
    if (!s) return error('ResourceNotFoundException', `Stream ${String(body.StreamName ?? body.StreamARN)} not found`);
    switch (operation) {
      case 'DeleteStream':
        this.streams.delete(s.name);
        return { status: 200, body: {} };
      case 'DescribeStreamSummary':
        return {
          status: 200,
          body: {
            StreamDescriptionSummary: {
              StreamName: s.name,
              StreamARN: s.arn,
              StreamStatus: 'ACTIVE',
              RetentionPeriodHours: 24,
              StreamCreationTimestamp: s.created / 1000,
              OpenShardCount: s.shards.filter((sh) => !sh.endingSequence).length,
              EnhancedMonitoring: [],
              EncryptionType: 'NONE',
              StreamModeDetails: { StreamMode: 'PROVISIONED' },
            },
          },
        };
      case 'DescribeStream':
        return {
          status: 200,
          body: {
            StreamDescription: {
              StreamName: s.name,
              StreamARN: s.arn,
              StreamStatus: 'ACTIVE',
              RetentionPeriodHours: 24,
              StreamCreationTimestamp: s.created / 1000,
              Shards: s.shards.map(describeShard),
              HasMoreShards: false,
              EnhancedMonitoring: [],
            },
          },
        };
      case 'ListShards':
        return { status: 200, body: { Shards: s.shards.map(describeShard) } };
      case 'PutRecord': {
        const r = this.put(s, body);
        return { status: 200, body: { ShardId: r.shardId, SequenceNumber: r.sequence } };
      }
      case 'PutRecords': {
        const records = (body.Records as Record<string, unknown>[] | undefined) ?? [];
        const out = records.map((r) => {
          const p = this.put(s, r);
          return { ShardId: p.shardId, SequenceNumber: p.sequence };
        });
        return { status: 200, body: { FailedRecordCount: 0, Records: out } };
      }
      case 'GetShardIterator':
        return this.getShardIterator(s, body);
      case 'SplitShard':
        return this.split(s, String(body.ShardToSplit), BigInt(String(body.NewStartingHashKey)));
      case 'UpdateShardCount': {
        const target = Number(body.TargetShardCount);
        const open = () => s.shards.filter((sh) => !sh.endingSequence);
        const before = open().length;
        // Splits the widest open shard in half until there are enough (uniform scaling up).
        while (open().length < target) {
          const widest = open().sort((a, b) => (b.end - b.start > a.end - a.start ? 1 : -1))[0]!;
          this.split(s, widest.shardId, widest.start + (widest.end - widest.start + 1n) / 2n);
        }
        return { status: 200, body: { StreamName: s.name, CurrentShardCount: before, TargetShardCount: target } };
      }
      default:
        return error('UnknownOperationException', `the test driver does not implement Kinesis ${operation}`);
    }
  }

  /** Every shard of every stream and its last record's sequence number. */
  tips(): ShardTip[] {
    return [...this.streams.values()].flatMap((s) =>
      s.shards.map((sh) => ({ stream: s.name, shardId: sh.shardId, last: sh.records.at(-1)?.SequenceNumber })),
    );
  }

  private create(name: string, shards: number): WireAnswer {
    if (this.streams.has(name)) return error('ResourceInUseException', `Stream ${name} already exists`);
    const s: KinesisStream = {
      name,
      arn: `arn:aws:kinesis:${this.region}:000000000000:stream/${name}`,
      shards: [],
      created: Date.now(),
    };
    const width = (MAX_HASH + 1n) / BigInt(shards);
    for (let i = 0; i < shards; i++)
      s.shards.push(this.newShard([], width * BigInt(i), i === shards - 1 ? MAX_HASH : width * BigInt(i + 1) - 1n));
    this.streams.set(name, s);
    return { status: 200, body: {} };
  }

  private stream(body: Record<string, unknown>): KinesisStream | undefined {
    if (body.StreamName) return this.streams.get(String(body.StreamName));
    if (body.StreamARN) return [...this.streams.values()].find((s) => s.arn === body.StreamARN);
    return undefined;
  }

  private put(s: KinesisStream, r: Record<string, unknown>): { shardId: string; sequence: string } {
    const hash =
      r.ExplicitHashKey !== undefined
        ? BigInt(String(r.ExplicitHashKey))
        : BigInt(`0x${createHash('md5').update(String(r.PartitionKey)).digest('hex')}`);
    const shard = s.shards.find((sh) => !sh.endingSequence && sh.start <= hash && hash <= sh.end)!;
    const sequence = String(++this.sequence);
    shard.records.push({
      SequenceNumber: sequence,
      ApproximateArrivalTimestamp: Date.now() / 1000,
      Data: String(r.Data),
      PartitionKey: String(r.PartitionKey),
    });
    return { shardId: shard.shardId, sequence };
  }

  private split(s: KinesisStream, shardId: string, at: bigint): WireAnswer {
    const parent = s.shards.find((sh) => sh.shardId === shardId);
    if (!parent || parent.endingSequence) return error('ResourceNotFoundException', `Shard ${shardId} is not open`);
    if (at <= parent.start || at > parent.end)
      return error('InvalidArgumentException', 'NewStartingHashKey is out of range');
    parent.endingSequence = String(this.sequence);
    s.shards.push(this.newShard([shardId], parent.start, at - 1n), this.newShard([shardId], at, parent.end));
    return { status: 200, body: {} };
  }

  private getShardIterator(s: KinesisStream, body: Record<string, unknown>): WireAnswer {
    const shard = s.shards.find((sh) => sh.shardId === body.ShardId);
    if (!shard) return error('ResourceNotFoundException', `Shard ${String(body.ShardId)} not found`);
    const seq = String(body.StartingSequenceNumber ?? '');
    const after = (q: string) => shard.records.findIndex((r) => compare(r.SequenceNumber, q) > 0);
    const at = (q: string) => shard.records.findIndex((r) => compare(r.SequenceNumber, q) >= 0);
    const end = shard.records.length;
    let next: number;
    switch (body.ShardIteratorType) {
      case 'TRIM_HORIZON':
        next = 0;
        break;
      case 'LATEST':
        next = end;
        break;
      case 'AT_SEQUENCE_NUMBER':
        next = at(seq);
        break;
      case 'AFTER_SEQUENCE_NUMBER':
        next = after(seq);
        break;
      case 'AT_TIMESTAMP': {
        const t = Number(body.Timestamp);
        next = shard.records.findIndex((r) => r.ApproximateArrivalTimestamp >= t);
        break;
      }
      default:
        return error('InvalidArgumentException', `Invalid ShardIteratorType ${String(body.ShardIteratorType)}`);
    }
    if (next < 0) next = end;
    return { status: 200, body: { ShardIterator: encode({ stream: s.name, shardId: shard.shardId, next }) } };
  }

  private getRecords(body: Record<string, unknown>): WireAnswer {
    const it = decode(String(body.ShardIterator));
    const s = it && this.streams.get(it.stream);
    const shard = s?.shards.find((sh) => sh.shardId === it!.shardId);
    if (!it || !shard) return error('InvalidArgumentException', 'Invalid ShardIterator');
    const limit = Math.min(10_000, Number(body.Limit ?? 10_000));
    const records = shard.records.slice(it.next, it.next + limit);
    const next = it.next + records.length;
    const newest = shard.records.at(-1);
    const behind =
      next < shard.records.length && newest ? Date.now() - records.at(-1)!.ApproximateArrivalTimestamp * 1000 : 0;
    const closed = shard.endingSequence !== undefined && next >= shard.records.length;
    return {
      status: 200,
      body: {
        Records: records,
        MillisBehindLatest: Math.max(0, Math.round(behind)),
        ...(closed
          ? {
              ChildShards: s!.shards
                .filter((c) => c.parents.includes(shard.shardId))
                .map((c) => ({ ShardId: c.shardId, ParentShards: c.parents, HashKeyRange: range(c) })),
            }
          : { NextShardIterator: encode({ ...it, next }) }),
      },
    };
  }

  private newShard(parents: readonly string[], start: bigint, end: bigint): KinesisShard {
    return {
      shardId: `shardId-${String(this.shardCount++).padStart(12, '0')}`,
      parents,
      start,
      end,
      startingSequence: String(this.sequence + 1n),
      records: [],
    };
  }
}

const range = (sh: KinesisShard) => ({ StartingHashKey: String(sh.start), EndingHashKey: String(sh.end) });

const describeShard = (sh: KinesisShard) => ({
  ShardId: sh.shardId,
  ...(sh.parents[0] ? { ParentShardId: sh.parents[0] } : {}),
  ...(sh.parents[1] ? { AdjacentParentShardId: sh.parents[1] } : {}),
  HashKeyRange: range(sh),
  SequenceNumberRange: {
    StartingSequenceNumber: sh.startingSequence,
    ...(sh.endingSequence ? { EndingSequenceNumber: sh.endingSequence } : {}),
  },
});

const compare = (a: string, b: string): number =>
  a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;

const encode = (it: Iterator): string => encodeIterator(it);
const decode = (token: string): Iterator | undefined => decodeIterator<Iterator>(token) as Iterator | undefined;
