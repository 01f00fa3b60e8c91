import { BatchWriteItemCommand, type AttributeValue, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { backoff, sleep } from '../core/time.js';
import { withRetry } from '../sources/retry.js';

/**
 * Sends write requests for one table in chunks of 25, retrying unprocessed items with backoff
 * until every one is written. Never gives up on transient errors: nothing is dropped.
 */
export async function batchWriteAll(ddb: DynamoDBClient, table: string, requests: readonly WriteRequest[], onUnprocessed?: (n: number) => void): Promise<void> {
  const chunks: WriteRequest[][] = [];
  for (let i = 0; i < requests.length; i += 25) chunks.push(requests.slice(i, i + 25));
  // Chunks run concurrently: every key appears at most once in `requests` (the caller coalesces).
  await Promise.all(chunks.map((c) => writeChunk(ddb, table, c, onUnprocessed)));
}

async function writeChunk(ddb: DynamoDBClient, table: string, chunk: WriteRequest[], onUnprocessed?: (n: number) => void): Promise<void> {
  let pending = chunk;
  for (let attempt = 0; pending.length > 0; attempt++) {
    const out = await withRetry(() => ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } })));
    pending = out.UnprocessedItems?.[table] ?? [];
    if (pending.length > 0) {
      onUnprocessed?.(pending.length);
      await sleep(backoff(attempt, 50, 2_000));
    }
  }
}

/** Canonical string of a key, to coalesce writes of the same item within a flush. */
export function keyString(key: Record<string, AttributeValue>, keyNames: readonly string[]): string {
  return keyNames.map((k) => JSON.stringify(key[k] ?? null)).join('|');
}
