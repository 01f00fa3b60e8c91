import { mkdirSync } from 'node:fs';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStream, createTable, freePort } from '../../src/testing/index.js';
import { eventually, testClients, unique } from '../helpers.js';
import { runApp, type AppProcess } from '../integration/app-process.js';
import { ensureChromium } from './chromium.js';

const FIXTURE = 'test/fixtures/page-app.ts';

// The page's DOM as far as this test reads it (the project compiles without the DOM library).
interface El {
  readonly textContent: string | null;
  readonly children: ArrayLike<El>;
  getAttribute(name: string): string | null;
  querySelector(selector: string): El | null;
}
declare const document: {
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): Iterable<El>;
  getElementById(id: string): El | null;
};
const SHOTS = '.tributary/screenshots';

/** Reads what the page shows, from its `data-*` attributes. */
async function shown(page: Page) {
  return page.evaluate(() => {
    const cells = (sel: string) => [...document.querySelectorAll(sel)];
    const row = document.querySelector('#pipelines tr[data-pipeline="clicks"]');
    const num = (el: El | null | undefined) => Number((el?.textContent ?? '0').replace(/,/g, '')) || 0;
    return {
      via: document.getElementById('via')?.textContent,
      updatedAt: document.getElementById('updated')?.getAttribute('data-at'),
      shards: cells('#shards tr[data-shard]').map((r) => ({
        owner: r.children[2]?.textContent,
        checkpoint: r.querySelector('[data-checkpoint]')?.getAttribute('data-checkpoint'),
        lag: r.querySelector('[data-lag]')?.getAttribute('data-lag'),
        points: Number(r.querySelector('svg.spark')?.getAttribute('data-points') ?? '0'),
      })),
      workers: cells('#workers tr[data-worker]').map((r) => r.getAttribute('data-worker')),
      inRate: num(row?.querySelector('[data-rate="in"]')),
      appliedRate: num(row?.querySelector('[data-rate="applied"]')),
      totalIn: num(row?.querySelector('[data-total="in"]')),
      totalApplied: num(row?.querySelector('[data-total="applied"]')),
      totalDead: num(row?.querySelector('[data-total="dead"]')),
      deadLetters: cells('#dead-letters tr[data-dead-letter]').map((r) => r.textContent ?? ''),
      tables: cells('#tables tr[data-table]').map((r) => r.textContent ?? ''),
    };
  });
}

describe('the status page, in headless Chromium', () => {
  const clients = testClients();
  let browser: Browser | undefined;
  let app: AppProcess | undefined;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: ensureChromium(), args: ['--no-sandbox'] });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    if (app && app.child.exitCode === null) {
      app.child.kill('SIGKILL');
      await app.exited;
    }
  });

  it('shows shards, lag, rates and a dead letter, and they change as records flow', async () => {
    const names = {
      APP_NAME: unique('page'),
      CLICKS_STREAM: unique('page_clicks'),
      COUNTS_TABLE: unique('page_counts'),
    };
    await createStream(clients.kinesis, names.CLICKS_STREAM, 2);
    await createTable(clients.dynamodb, { name: names.COUNTS_TABLE, partitionKey: { name: 'page', type: 'S' } });
    const put = async (from: number, n: number, bad = 0) => {
      for (let i = 0; i < n + bad; i += 100) {
        const ids = Array.from({ length: Math.min(100, n + bad - i) }, (_, j) => from + i + j);
        await clients.kinesis.send(
          new PutRecordsCommand({
            StreamName: names.CLICKS_STREAM,
            Records: ids.map((id) => ({
              PartitionKey: `k${id}`,
              Data: Buffer.from(JSON.stringify(id - from >= n ? { bad: id } : { page: `/p${id % 7}` })),
            })),
          }),
        );
      }
    };
    const port = await freePort();
    app = runApp(FIXTURE, { ...names, TRIBUTARY_PORT: String(port) });
    const url = `http://127.0.0.1:${port}`;
    await eventually(
      async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200,
      60_000,
      'ready',
    );

    await put(0, 300, 2);
    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${url}/`);
    await eventually(
      async () => {
        const s = await shown(page);
        return (
          s.via === 'live' &&
          s.shards.length === 2 &&
          s.shards.every((x) => x.owner && x.lag !== '' && x.checkpoint !== 'TRIM_HORIZON') &&
          s.totalApplied === 300 &&
          s.totalDead === 2 &&
          s.deadLetters.length === 2
        );
      },
      90_000,
      'the page to show both shards with lag, 300 applied and 2 dead letters',
    );
    const first = await shown(page);
    expect(first.workers).toHaveLength(1);
    expect(first.deadLetters[0]).toContain('bad click: it names no page');
    expect(first.tables.some((t) => t.includes(names.COUNTS_TABLE) && t.includes('200'))).toBe(true);

    // More records: the rates rise above 0, the totals and lag histories grow, the timestamp moves.
    await put(1_000, 600);
    let sawRate = false;
    await eventually(
      async () => {
        const s = await shown(page);
        sawRate ||= s.inRate > 0 && s.appliedRate > 0;
        return (
          sawRate &&
          s.totalApplied === 900 &&
          s.updatedAt !== first.updatedAt &&
          s.shards.every((x, i) => x.points > (first.shards[i]?.points ?? 0))
        );
      },
      90_000,
      'rates above 0, 900 applied and longer lag histories',
    );
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: `${SHOTS}/status-page.png`, fullPage: true });

    // The same server answers probes and scrapes.
    const live = await fetch(`${url}/livez`);
    expect(live.status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/tributary_records_applied_total\{pipeline="clicks"\} 900/);
    const status = (await (await fetch(`${url}/status.json`)).json()) as { pipelines: { name: string }[] };
    expect(status.pipelines.map((p) => p.name)).toEqual(['clicks']);

    app.child.kill('SIGTERM');
    expect((await app.exited).code).toBe(0);
  }, 300_000);
});
