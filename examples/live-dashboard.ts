// A live dashboard of a click stream: clicks per page in 10-second windows, with the p99 of page
// load times, unique users (approximate) and the top referrers, computed live from Kinesis and
// served as a chart. Run it with `tributary dev examples/live-dashboard.ts` and open the chart
// URL it prints (`/taps/clicks-per-page/view`); programs read `/taps/clicks-per-page?format=ndjson`.
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import {
  app,
  count,
  distinct,
  json,
  kinesisStream,
  percentiles,
  tap,
  topK,
  tumblingWindows,
  type KinesisRecord,
} from '../src/index.js';

const ClickSchema = z.object({
  page: z.string().min(1),
  userId: z.string(),
  referrer: z.string(),
  loadMs: z.number().nonnegative(),
  at: z.number().int(),
});
type Click = z.infer<typeof ClickSchema>;
type ClickRecord = KinesisRecord<Click>;

const clicks = kinesisStream('dashboard_clicks', { decode: json(ClickSchema) });

const PAGES = ['/', '/search', '/product', '/cart', '/checkout'];
const REFERRERS = ['google', 'newsletter', 'direct', 'partner'];

export default app(
  'dashboard',
  [
    tap('clicks-per-page', {
      from: clicks,
      window: tumblingWindows(10_000),
      key: (r: ClickRecord) => r.value.page,
      // Event time: when the click happened in the browser, not when Kinesis got it.
      time: (r) => r.value.at,
      aggregate: {
        clicks: count(),
        users: distinct((r: ClickRecord) => r.value.userId),
        p99LoadMs: percentiles((r: ClickRecord) => r.value.loadMs, [0.99]),
        referrers: topK(3, (r: ClickRecord) => r.value.referrer),
      },
      // Clicks may arrive up to 2 s out of order; a window takes late clicks for 5 s more.
      maxOutOfOrderMs: 2_000,
      allowedLatenessMs: 5_000,
      idleTimeoutMs: 10_000,
    }),
  ],
  {
    dev: {
      streams: [{ name: 'dashboard_clicks', shards: 2 }],
      /** About 50 clicks a second, a few of them a little out of order. */
      async traffic({ clients, signal }) {
        for (let n = 0; !signal.aborted; n++) {
          const now = Date.now();
          const records = Array.from({ length: 10 }, (_, i) => {
            const page = PAGES[(n * 7 + i * 3) % PAGES.length]!;
            const click: Click = {
              page,
              userId: `u${(n * 13 + i) % 200}`,
              referrer: REFERRERS[(n + i) % REFERRERS.length]!,
              loadMs: 50 + ((n * 31 + i * 17) % 400) + (page === '/checkout' ? 300 : 0),
              at: now - ((n + i) % 5 === 0 ? 1_500 : 0),
            };
            return { PartitionKey: click.userId, Data: Buffer.from(JSON.stringify(click)) };
          });
          await clients.kinesis.send(new PutRecordsCommand({ StreamName: 'dashboard_clicks', Records: records }));
          await delay(200, undefined, { signal }).catch(() => undefined);
        }
      },
    },
  },
);
