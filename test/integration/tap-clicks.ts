// Clicks for the tap tests: an input with known event times, and the aggregates it must give.
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { scanAll } from '../../src/testing/index.js';
import { eventually, seededRandom } from '../helpers.js';

export interface Click {
  readonly page: string;
  readonly at: number;
  readonly ms: number;
  readonly user: string;
}

export const WINDOW_MS = 10_000;
export const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);

/** What the tap must report per window and page, computed from the input. */
export function oracle(clicks: readonly Click[]) {
  const out = new Map<string, { clicks: number; ms: number; slowest: number; users: Set<string> }>();
  for (const c of clicks) {
    const start = Math.floor(c.at / WINDOW_MS) * WINDOW_MS;
    const k = `${start}|${c.page}`;
    const v = out.get(k) ?? { clicks: 0, ms: 0, slowest: -Infinity, users: new Set<string>() };
    v.clicks++;
    v.ms += c.ms;
    v.slowest = Math.max(v.slowest, c.ms);
    v.users.add(c.user);
    out.set(k, v);
  }
  return out;
}

/** `n` clicks over consecutive windows, 100 ms apart, on four pages and 30 users. */
export function clicksFrom(seed: number, n: number): Click[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => ({
    page: `/p${Math.floor(rand() * 4)}`,
    at: T0 + i * 100,
    ms: Math.floor(rand() * 500),
    user: `u${Math.floor(rand() * 30)}`,
  }));
}

/** Puts clicks on a stream, each with its partition key, in order. */
export async function putClicks(kinesis: KinesisClient, stream: string, cs: readonly (Click & { pk: string })[]) {
  for (let i = 0; i < cs.length; i += 200)
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: cs.slice(i, i + 200).map((c) => ({ PartitionKey: c.pk, Data: Buffer.from(JSON.stringify(c)) })),
      }),
    );
}

/** Clicks far later on both partition keys: the watermark passes every window before them. */
export const endMarkers = (): (Click & { pk: string })[] =>
  ['k0', 'k1'].map((pk) => ({ page: '/end', at: T0 + 100 * WINDOW_MS, ms: 0, user: 'none', pk }));

/** The rows of a tap's table of finals once it holds every window of the oracle, each with what it must hold. */
export async function finalRows(ddb: DynamoDBClient, table: string, want: ReturnType<typeof oracle>) {
  await eventually(async () => (await scanAll(ddb, table)).length === want.size, 30_000, 'the table of finals');
  return (await scanAll(ddb, table)).map((row) => ({
    row,
    want: want.get(`${String(row.start)}|${String(row.key)}`)!,
  }));
}
