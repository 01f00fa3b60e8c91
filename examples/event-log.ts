// An event log: user events arrive on a Kinesis stream and are kept in a time-bucketed event table
// that rotates daily and keeps a week. Any range can be read back in time order (a replay); the dev
// report replays the last minute. Run it locally with
// `node bin/tributary.js dev examples/event-log.ts --duration-ms 30000`.
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { map } from 'rxjs';
import { z } from 'zod';
import {
  app,
  eventTable,
  json,
  kinesisStream,
  maintainRotation,
  pipeline,
  readEvents,
  rotationPlan,
  type Clients,
} from '../src/index.js';

// ---- Source -----------------------------------------------------------------------------

const UserEvent = z.object({
  id: z.string().min(1),
  at: z.number().int(),
  user: z.string(),
  action: z.enum(['view', 'click', 'buy']),
  page: z.string(),
});
type UserEvent = z.infer<typeof UserEvent>;

const STREAM = 'event_log_events';
const events = kinesisStream(STREAM, { decode: json(UserEvent) });

// ---- View -------------------------------------------------------------------------------

/**
 * One table per UTC day (`event_log_2026_11_22`), kept 7 days, tomorrow's created ahead. Minute
 * buckets spread over 4 partitions each; the producer's event id makes stores idempotent (a
 * resent event is stored once), and replays come back ordered by event time, not arrival.
 */
const eventLog = eventTable<UserEvent>({
  table: 'event_log',
  time: (e) => e.at,
  id: (e) => e.id,
  bucket: '1m',
  writeShards: 4,
  rotation: { period: 'day', retention: 7, createAhead: 1 },
});

const storeEvents = pipeline('store-events')
  .from(events)
  .pipe(map((r) => r.value))
  .to(eventLog);

// ---- Dev loop: tables, generated traffic, a report ---------------------------------------

type DevContext = { clients: Clients; tableName: (logical: string) => string };

const USERS = Array.from({ length: 20 }, (_, i) => `u${i}`);
const PAGES = ['/', '/search', '/cart', '/checkout', '/p/kettle', '/p/teapot'];
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

/**
 * What a daily job does in production (idempotent): create tomorrow's table, drop expired ones.
 * Then, every ~50 ms, a few events; 1 in 10 arrives late (its time up to 20 s back), 1 in 20 is sent twice.
 */
async function traffic({ clients, tableName, signal }: DevContext & { signal: AbortSignal }): Promise<void> {
  await maintainRotation(eventLog, clients, { tableName });
  while (!signal.aborted) {
    const batch: UserEvent[] = Array.from({ length: 1 + Math.floor(Math.random() * 4) }, () => ({
      id: randomUUID(),
      at: Date.now() - (Math.random() < 0.1 ? Math.floor(Math.random() * 20_000) : 0),
      user: pick(USERS),
      action: Math.random() < 0.6 ? 'view' : Math.random() < 0.8 ? 'click' : 'buy',
      page: pick(PAGES),
    }));
    const sent = [...batch, ...batch.filter(() => Math.random() < 0.05)];
    await clients.kinesis.send(
      new PutRecordsCommand({
        StreamName: STREAM,
        Records: sent.map((e) => ({ PartitionKey: e.user, Data: Buffer.from(JSON.stringify(e)) })),
      }),
    );
    await delay(50, undefined, { signal }).catch(() => undefined);
  }
}

/** Replays the last minute from the event table and prints counts per 10 seconds, in time order. */
async function report(ctx: DevContext): Promise<string> {
  const to = new Date();
  const from = new Date(to.getTime() - 60_000);
  const slots = new Map<number, { view: number; click: number; buy: number }>();
  for (let t = Math.floor(from.getTime() / 10_000) * 10_000; t < to.getTime(); t += 10_000)
    slots.set(t, { view: 0, click: 0, buy: 0 });
  let count = 0;
  let ordered = true;
  let last = '';
  const ids = new Set<string>();
  for await (const e of readEvents({ view: eventLog, from, to }, ctx)) {
    const key = `${e.time.toISOString()}#${e.id}`;
    if (key < last) ordered = false;
    last = key;
    count++;
    ids.add(e.id);
    slots.get(Math.floor(e.time.getTime() / 10_000) * 10_000)![e.value.action]++;
  }
  const plan = rotationPlan(eventLog, to);
  const hhmmss = (t: number) => new Date(t).toISOString().slice(11, 19);
  return [
    `last minute, replayed from the event table (1m buckets x 4 write shards), per 10 s:`,
    ...[...slots].map(
      ([t, c]) =>
        `  ${hhmmss(t)}  ${'#'.repeat(Math.min(40, Math.ceil((c.view + c.click + c.buy) / 5))).padEnd(40)} ${c.view + c.click + c.buy} (view ${c.view}, click ${c.click}, buy ${c.buy})`,
    ),
    `replayed ${count} events (${ids.size} distinct ids), in time order: ${ordered ? 'yes' : 'NO'}`,
    `tables: ${plan.ensure.map((s) => s.name).join(', ')} (current and ahead); periods before ${plan.oldestKept} are dropped`,
  ].join('\n');
}

export default app('event-log', [storeEvents], {
  dev: { tables: eventLog.tables(), streams: [{ name: STREAM, shards: 2 }], traffic, report },
});
