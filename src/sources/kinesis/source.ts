import { DescribeStreamSummaryCommand, ListShardsCommand, type Shard } from '@aws-sdk/client-kinesis';
import { TributaryError } from '../../core/errors.js';
import type { Permission } from '../../core/iam.js';
import { rethrowMissing } from '../../core/not-found.js';
import type { Checkpoint } from '../../core/position.js';
import type { KinesisRecord } from '../../core/records.js';
import type { BoundSource, ShardInfo, ShardReader, SourceEnv, StartPosition, StreamSource } from '../../core/source.js';
import type { Decoder } from '../decoding/decoder.js';
import { json } from '../decoding/json.js';
import { withRetry } from '../../core/retry.js';
import { pollShard, shardInfo } from '../polling/polled-source.js';
import { KinesisAdapter } from './shard-adapter.js';

/** The default longest wait between polls of an idle shard: twice a second: a record reaches a view in well under a second, and an idle shard uses 2 of the 5 GetRecords calls a second Kinesis allows it, leaving the rest to the stream's other consumers. */
export const IDLE_POLL_MS = 500;

export interface KinesisStreamOptions<T> {
  /** Turns each (de-aggregated) payload into a value; failures go to the dead letters. Default `json()`. */
  readonly decode?: Decoder<T>;
  /** Where to begin when the app has no checkpoint for a shard. Default `TRIM_HORIZON`. */
  readonly startPosition?: StartPosition;
  /** Records per GetRecords call (at most 10,000). Default 1,000. */
  readonly batchSize?: number;
  /** Longest wait between polls of an idle shard. Default 500 ms. */
  readonly idlePollMs?: number;
  /** Stable name for checkpoints when the stream is given by ARN. Default: the stream name. */
  readonly name?: string;
}

/**
 * A Kinesis data stream as a source, by name or ARN. KPL-aggregated records are de-aggregated;
 * payloads are decoded by `decode` (JSON by default, or any Standard Schema validator through `json(schema)`).
 *
 * @example
 * ```ts
 * const clicks = kinesisStream('clicks', { decode: json(ClickSchema) });
 * ```
 */
export function kinesisStream<T = unknown>(
  nameOrArn: string,
  options: KinesisStreamOptions<T> = {},
): StreamSource<KinesisRecord<T>> {
  const isArn = nameOrArn.startsWith('arn:');
  const streamName = isArn ? (nameOrArn.split('/')[1] ?? nameOrArn) : nameOrArn;
  const name = options.name ?? streamName;
  return {
    name,
    kind: 'kinesis',
    startPosition: options.startPosition ?? 'TRIM_HORIZON',
    iam: (): readonly Permission[] => [
      {
        actions: [
          'kinesis:DescribeStreamSummary',
          'kinesis:ListShards',
          'kinesis:GetShardIterator',
          'kinesis:GetRecords',
        ],
        resource: isArn ? { type: 'arn', arn: nameOrArn } : { type: 'kinesisStream', stream: streamName },
      },
    ],
    async bind(env: SourceEnv): Promise<BoundSource<KinesisRecord<T>>> {
      const ref = isArn ? { StreamARN: nameOrArn } : { StreamName: streamName };
      await rethrowMissing(
        () =>
          withRetry(
            () => env.clients.kinesis.send(new DescribeStreamSummaryCommand(ref), { abortSignal: env.signal }),
            {
              signal: env.signal,
            },
          ),
        (cause) =>
          new TributaryError('source.notFound', `Kinesis stream '${nameOrArn}' does not exist`, {
            details: { stream: nameOrArn },
            cause,
          }),
      );
      return new BoundKinesisSource<T>(name, ref, env, options);
    },
  };
}

class BoundKinesisSource<T> implements BoundSource<KinesisRecord<T>> {
  constructor(
    readonly name: string,
    private readonly ref: { StreamName?: string; StreamARN?: string },
    private readonly env: SourceEnv,
    private readonly options: KinesisStreamOptions<T>,
  ) {}

  async listShards(): Promise<readonly ShardInfo[]> {
    const shards: Shard[] = [];
    let token: string | undefined;
    // A loop of our own: @aws-sdk/client-kinesis has no ListShards paginator; a call with NextToken leaves out the stream.
    do {
      const input = token ? { NextToken: token } : { ...this.ref };
      const out = await withRetry(
        () => this.env.clients.kinesis.send(new ListShardsCommand(input), { abortSignal: this.env.signal }),
        { signal: this.env.signal },
      );
      shards.push(...(out.Shards ?? []));
      token = out.NextToken;
    } while (token);
    return shards.map(shardInfo);
  }

  async openShard(shard: ShardInfo, from: Checkpoint): Promise<ShardReader<KinesisRecord<T>>> {
    const ref = {
      source: this.name,
      stream: this.ref,
      shardId: shard.shardId,
      decode: this.options.decode ?? (json() as Decoder<T>),
      batchSize: Math.min(10_000, this.options.batchSize ?? 1000),
      idlePollMs: this.options.idlePollMs ?? IDLE_POLL_MS,
    };
    return pollShard(new KinesisAdapter<T>(this.env, ref), ref, from, this.env);
  }
}
