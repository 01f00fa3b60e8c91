import { mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  app,
  count,
  destroyClients,
  kinesisStream,
  max,
  Runner,
  startHttpServer,
  sum,
  tap,
  tumblingWindows,
  type KinesisRecord,
} from '../../src/index.js';
import { createStream } from '../../src/testing/index.js';
import { eventually, fastRunner, testClients, unique } from '../helpers.js';
import { clicksFrom, endMarkers, oracle, putClicks, type Click } from '../integration/tap-clicks.js';
import { ensureChromium } from './chromium.js';

// The page's DOM as far as this test reads it (the project compiles without the DOM library).
interface El {
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): Iterable<El>;
}
declare const document: { querySelectorAll(selector: string): Iterable<El> };

describe("a tap's live chart, in headless Chromium", () => {
  const clients = testClients();
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: ensureChromium(), args: ['--no-sandbox'] });
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    destroyClients(clients);
  });

  it('shows, for every window and page, the final values computed from the input', async () => {
    const stream = unique('view_clicks');
    await createStream(clients.kinesis, stream, 2);
    const def = app(unique('view'), [
      tap('clicks', {
        from: kinesisStream<Click>(stream),
        window: tumblingWindows(10_000),
        key: (r: KinesisRecord<Click>) => r.value.page,
        time: (r) => r.value.at,
        aggregate: {
          clicks: count(),
          ms: sum((r: KinesisRecord<Click>) => r.value.ms),
          slowest: max((r: KinesisRecord<Click>) => r.value.ms),
        },
        idleTimeoutMs: 20_000,
        updateEveryMs: 200,
      }),
    ]);
    const runner = new Runner(def, { ...fastRunner, clients });
    await runner.start();
    const server = await startHttpServer(runner, { port: 0, host: '127.0.0.1' });
    try {
      const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
      await page.goto(`${server.url}/taps/clicks/view`);
      const clicks = clicksFrom(11, 400);
      await putClicks(clients.kinesis, stream, [...clicks.map((c, i) => ({ ...c, pk: `k${i % 2}` })), ...endMarkers()]);
      const want = oracle(clicks);
      const shown = () =>
        page.evaluate(() =>
          [...document.querySelectorAll('#values tr[data-final="true"]')].map((r) => ({
            window: r.getAttribute('data-window')!,
            key: r.getAttribute('data-key')!,
            values: Object.fromEntries(
              [...r.querySelectorAll('[data-field]')].map((c) => [
                c.getAttribute('data-field')!,
                JSON.parse(c.getAttribute('data-value')!) as number,
              ]),
            ),
          })),
        );
      await eventually(async () => (await shown()).length === want.size, 60_000, `${want.size} final rows`);
      for (const row of await shown()) {
        const w = want.get(`${row.window.split('-')[0]}|${row.key}`)!;
        expect(row.values).toEqual({ clicks: w.clicks, ms: w.ms, slowest: w.slowest });
      }
      // The chart draws a line per page.
      expect(await page.locator('#chart polyline').count()).toBeGreaterThanOrEqual(4);
      mkdirSync('.tributary/screenshots', { recursive: true });
      await page.screenshot({ path: '.tributary/screenshots/tap-view.png', fullPage: true });
    } finally {
      await server.close();
      await runner.stop();
    }
  }, 180_000);
});
