import {
  DescribeTableCommand,
  waitUntilTableExists,
  type DescribeTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { waitUntilStreamExists, type KinesisClient } from '@aws-sdk/client-kinesis';
import { checkExceptions, createWaiter, WaiterState, type WaiterResult } from '@smithy/util-waiter';
import { TributaryError } from '../core/errors.js';

/** Options of the table and stream waiters. */
export interface WaitOptions {
  /** Give up after this many seconds, with a retryable `table.notActive` error. Default 120. */
  readonly maxWaitSeconds?: number;
}

/** Options of {@link waitTableActive}. */
export interface WaitTableOptions extends WaitOptions {
  /**
   * Also wait until every global secondary index is ACTIVE. An index added by `UpdateTable`
   * backfills after the table is ACTIVE again, and DynamoDB creates one index at a time. Default false.
   */
  readonly indexes?: boolean;
}

/**
 * The SDK's waiters poll DynamoDB every 20 s at first and Kinesis every 10 s, for minutes-long
 * operations. Ours are seconds on AWS and instant on the emulators (the first check, at once,
 * usually succeeds there): poll from 100 ms, backing off to 5 s.
 */
const POLL = { minDelay: 0.1, maxDelay: 5 } as const;

/**
 * Waits until a DynamoDB table is ACTIVE (and, with `indexes`, each of its global secondary
 * indexes), with the SDK's waiter. A table not found yet is waited for, as any other answer.
 *
 * @example
 * ```ts
 * await ddb.send(new CreateTableCommand(input));
 * await waitTableActive(ddb, input.TableName!);
 * ```
 */
export async function waitTableActive(ddb: DynamoDBClient, table: string, opts: WaitTableOptions = {}): Promise<void> {
  const maxWaitTime = opts.maxWaitSeconds ?? 120;
  const config = { client: ddb, ...POLL, maxWaitTime };
  const input = { TableName: table };
  await settled('table', table, maxWaitTime, () =>
    opts.indexes
      ? createWaiter(config, input, tableAndIndexesActive).then(checkExceptions)
      : waitUntilTableExists(config, input),
  );
}

/**
 * Waits until a Kinesis stream is ACTIVE (created, or done resharding), with the SDK's waiter.
 *
 * @example
 * ```ts
 * await kinesis.send(new UpdateShardCountCommand({ StreamName: 'clicks', TargetShardCount: 2, ScalingType: 'UNIFORM_SCALING' }));
 * await waitStreamActive(kinesis, 'clicks');
 * ```
 */
export async function waitStreamActive(kinesis: KinesisClient, stream: string, opts: WaitOptions = {}): Promise<void> {
  const maxWaitTime = opts.maxWaitSeconds ?? 120;
  await settled('stream', stream, maxWaitTime, () =>
    waitUntilStreamExists({ client: kinesis, ...POLL, maxWaitTime }, { StreamName: stream }),
  );
}

/** The acceptor of a waiter for a table and its indexes; errors (a table not found yet) are waited out. */
async function tableAndIndexesActive(ddb: DynamoDBClient, input: DescribeTableCommandInput): Promise<WaiterResult> {
  try {
    const out = await ddb.send(new DescribeTableCommand(input));
    const t = out.Table;
    const ready =
      t?.TableStatus === 'ACTIVE' &&
      (t.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === undefined || g.IndexStatus === 'ACTIVE');
    return { state: ready ? WaiterState.SUCCESS : WaiterState.RETRY, reason: out };
  } catch (e) {
    return { state: WaiterState.RETRY, reason: e };
  }
}

/**
 * Runs a waiter; when it gives up, throws a TributaryError whose cause is the SDK's waiter error:
 * the answers the waiter saw and how often, never a whole SDK response.
 */
async function settled(
  kind: 'table' | 'stream',
  name: string,
  maxWaitSeconds: number,
  wait: () => Promise<unknown>,
): Promise<void> {
  try {
    await wait();
  } catch (e) {
    throw new TributaryError('table.notActive', `${kind} '${name}' did not become ACTIVE within ${maxWaitSeconds} s`, {
      details: { [kind]: name },
      cause: e,
    });
  }
}
