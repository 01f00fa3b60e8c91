import {
  DescribeStreamSummaryCommand,
  PutRecordsCommand,
  type KinesisClient,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis';
import { TributaryError } from '../../core/errors.js';
import type { Permission } from '../../core/iam.js';
import { rethrowMissing } from '../../core/not-found.js';
import type { DynamoChange } from '../../core/records.js';
import type { Sink, SinkEnv, WriteContext } from '../../core/sink.js';
import { retryUnprocessed, withRetry } from '../../core/retry.js';
import { SerialLanes, shardLane } from '../../core/serial-lanes.js';
import { entryBytes, keyedChunks, KINESIS_RECORD_MAX_BYTES, putRecordsChunks } from './batches.js';
import { bridgeEntry, type BridgeEntry } from './record.js';

export interface KinesisBridgeOptions {
  /** `tableName` written in each record. Default: the physical name of the source the change came from. */
  readonly tableName?: string;
  /** `awsRegion` written in each record. Default: the Kinesis client's region. */
  readonly region?: string;
  /** Sink name in logs and metrics. Default `kinesis-bridge:<stream>`. */
  readonly name?: string;
}

/**
 * Publishes a table's changes to a Kinesis data stream in the record format of "Kinesis Data
 * Streams for DynamoDB": JSON with the images in DynamoDB JSON, partition key derived from the
 * item's key (so one item's changes share a shard). It emulates the native feature where it is
 * missing (DynamoDB Local) or replaces it where a stream of your own is wanted.
 *
 * PutRecords calls carry at most 500 records and 5 MiB; records the service fails (throttling,
 * internal errors) are sent again until all are written, so `write` resolves only when every
 * change is in the stream. Like the native feature, a retried record may land after a later
 * change of the same item, and a crash may publish a change twice: consumers must tolerate
 * duplicates and reordering — {@link mirror} does, by version. A change whose record would exceed
 * Kinesis's 1 MiB limit is rejected with `sink.itemTooLarge` (and goes to the dead letters).
 *
 * @example
 * ```ts
 * pipeline('users-to-kinesis').from(dynamodbTable<User>('users')).to(kinesisBridge('users_changes'))
 * ```
 */
export function kinesisBridge<T = Record<string, unknown>>(
  stream: string,
  options: KinesisBridgeOptions = {},
): Sink<DynamoChange<T>> {
  return new KinesisBridgeSink<T>(stream, options);
}

class KinesisBridgeSink<T> implements Sink<DynamoChange<T>> {
  readonly name: string;
  private kinesis!: KinesisClient;
  private region = '';
  private tableName: (source: string) => string = (s) => s;
  private readonly lanes = new SerialLanes();

  constructor(
    private readonly stream: string,
    private readonly options: KinesisBridgeOptions,
  ) {
    this.name = options.name ?? `kinesis-bridge:${stream}`;
  }

  /** DescribeStreamSummary at open, then PutRecords (stream names take no environment prefix). */
  iam(): readonly Permission[] {
    return [
      {
        actions: ['kinesis:DescribeStreamSummary', 'kinesis:PutRecords'],
        resource: { type: 'kinesisStream', stream: this.stream },
      },
    ];
  }

  async open(env: SinkEnv): Promise<void> {
    this.kinesis = env.clients.kinesis;
    this.tableName = env.tableName;
    this.region = this.options.region ?? (await this.kinesis.config.region());
    await rethrowMissing(
      () => withRetry(() => this.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: this.stream }))),
      (cause) =>
        new TributaryError(
          'config.invalid',
          `Kinesis stream '${this.stream}' (target of ${this.name}) does not exist`,
          { details: { stream: this.stream }, cause },
        ),
    );
  }

  write(outputs: readonly DynamoChange<T>[], ctx: WriteContext): Promise<void> {
    if (outputs.length === 0) return Promise.resolve();
    // Encode and check sizes before anything is sent, so a bad change fails this call alone.
    const entries = outputs.map((c) => {
      const e = bridgeEntry(c, {
        tableName: this.options.tableName ?? this.tableName(c.position.source),
        region: this.region,
      });
      const size = entryBytes(e);
      if (size > KINESIS_RECORD_MAX_BYTES) {
        throw new TributaryError(
          'sink.itemTooLarge',
          `the Kinesis record of this change is ${size} bytes, over the 1 MiB limit of stream '${this.stream}'`,
          { details: { stream: this.stream, size } },
        );
      }
      return e;
    });
    return this.lanes.run(shardLane(ctx.positions[0]), async () => {
      const together = keyedChunks(entries);
      if (together) await Promise.all(together.map((chunk) => this.putAll(chunk)));
      else for (const chunk of putRecordsChunks(entries)) await this.putAll(chunk);
    });
  }

  /** One PutRecords call, then again for the records it failed, until none is left. */
  private putAll(entries: readonly BridgeEntry[]): Promise<void> {
    return retryUnprocessed(
      entries.map((e): PutRecordsRequestEntry => ({ Data: e.data, PartitionKey: e.partitionKey })),
      async (batch) => {
        const out = await withRetry(() =>
          this.kinesis.send(new PutRecordsCommand({ StreamName: this.stream, Records: batch })),
        );
        if (!out.FailedRecordCount) return undefined;
        return batch.filter((_r, i) => out.Records?.[i]?.ErrorCode !== undefined || out.Records?.[i] === undefined);
      },
      { baseMs: 100, capMs: 5_000 },
    );
  }

  async flush(): Promise<void> {
    await this.lanes.idle();
  }
}
