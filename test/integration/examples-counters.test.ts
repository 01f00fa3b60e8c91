import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import counters from '../../examples/counters.js';
import { appTables } from '../../src/core/app-tables.js';
import { bucket } from '../../src/core/buckets.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { createTable, scanAll, waitStreamActive } from '../../src/testing/tables.js';
import { eventually, testClients, unique } from '../helpers.js';
import { runApp, type AppProcess } from './app-process.js';
import { runDev } from './dev-run.js';

describe('examples/counters.ts', () => {
  it('counts every page view sent, per page and minute, and keeps a live count of items per owner equal to the table', async () => {
    const r = await runDev('examples/counters.ts', 12_000, 110_000);
    const all = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    expect(r.code, all).toBe(0);

    const final = /^\[final\] records in (\d+), applied (\d+), dead letters (\d+)$/m.exec(r.stdout);
    expect(final, all).not.toBeNull();
    const [recordsIn, applied, deadLetters] = [Number(final![1]), Number(final![2]), Number(final![3])];
    expect(applied).toBeGreaterThan(0);
    expect(deadLetters).toBe(0);
    expect(applied).toBe(recordsIn);

    const report = r.stdout.slice(final!.index);
    const views = /^ {2}page views: counted (\d+) of (\d+) sent, in (\d+) page-minute counters$/m.exec(report);
    expect(views, report).not.toBeNull();
    expect(Number(views![2])).toBeGreaterThan(50);
    expect(Number(views![1])).toBe(Number(views![2]));
    expect(Number(views![3])).toBeGreaterThan(0);
    expect(report).toMatch(/^ {2}busiest pages in minute \d{4}-\d{2}-\d{2}T\d{2}:\d{2}: \S+ \d+ \(avg \d+ ms\)/m);
    const owners = /^ {2}items per owner: (.*) \((\d+) items\); matches the table: (yes|no)$/m.exec(report);
    expect(owners, report).not.toBeNull();
    expect(Number(owners![2])).toBeGreaterThan(0);
    expect(owners![3]).toBe('yes');
    expect(r.stdout).toMatch(/emulators stopped\s*$/);
  });

  it('after SIGKILLs of `tributary run` mid-traffic, every page-minute counter equals the page views in the stream and every owner count equals the table', async () => {
    const clients = testClients();
    const prefix = `${unique('ck')}_`;
    const named = (t: string) => `${prefix}${t}`;
    const running: AppProcess[] = [];
    const traffic = new AbortController();
    try {
      for (const spec of appTables(counters)) await createTable(clients.dynamodb, { ...spec, name: named(spec.name) });
      // Kinesis stream names take no prefix: the dev run above may have made the stream already.
      for (const s of counters.dev!.streams!)
        await clients.kinesis
          .send(new CreateStreamCommand({ StreamName: s.name, ShardCount: s.shards }))
          .catch((e: unknown) => {
            if ((e as Error).name !== 'ResourceInUseException') throw e;
          });
      await waitStreamActive(clients.kinesis, counters.dev!.streams![0]!.name);
      const start = () => {
        const p = runApp('examples/counters.ts', {}, ['--prefix', prefix]);
        running.push(p);
        return p;
      };
      let worker = start();
      const sending = counters.dev!.traffic!({ clients, tableName: named, signal: traffic.signal });
      const countedViews = async () =>
        (await scanAll<{ views: number }>(clients.dynamodb, named('counters_views_per_minute'))).reduce(
          (a, r) => a + r.views,
          0,
        );
      // Three kills, each once the worker has counted more than before.
      for (let kill = 0, seen = 0; kill < 3; kill++) {
        await eventually(async () => (await countedViews()) > seen, 120_000, 'the worker to count page views');
        seen = await countedViews();
        worker.child.kill('SIGKILL');
        await worker.exited;
        worker = start();
      }
      traffic.abort();
      await sending;

      const truth = await pageViewsInStream(clients, counters.dev!.streams![0]!.name);
      const check = async () => {
        const minutes = await scanAll<{ page: string; minute: string; views: number; ms: number }>(
          clients.dynamodb,
          named('counters_views_per_minute'),
        );
        const got = new Map(minutes.map((r) => [`${r.page}|${r.minute}`, `${r.views}/${r.ms}`]));
        const owners = await scanAll<{ owner: string; items: number }>(
          clients.dynamodb,
          named('counters_items_per_owner'),
        );
        const items = await scanAll<{ owner: string }>(clients.dynamodb, named('counters_items'));
        const perOwner = new Map<string, number>();
        for (const i of items) perOwner.set(i.owner, (perOwner.get(i.owner) ?? 0) + 1);
        const counted = new Map(owners.filter((o) => o.items !== 0).map((o) => [o.owner, o.items]));
        return { views: { got, want: truth }, owners: { got: counted, want: perOwner } };
      };
      const same = (c: Awaited<ReturnType<typeof check>>) =>
        Object.values(c).every((x) => JSON.stringify([...x.got].sort()) === JSON.stringify([...x.want].sort()));
      let last: Awaited<ReturnType<typeof check>> | undefined;
      await eventually(async () => same((last = await check())), 200_000, 'the counters to catch up').catch(
        (e: unknown) => {
          // Say what differs, and what the last worker logged, so a failure here can be read.
          const differ = Object.entries(last ?? {}).map(([k, v]) => {
            const keys = new Set([...v.got.keys(), ...v.want.keys()]);
            const off = [...keys].filter((key) => v.got.get(key) !== v.want.get(key));
            return `${k}: ${off.length} keys differ, e.g. ${off
              .slice(0, 3)
              .map((key) => `${key} ${String(v.got.get(key))} vs ${String(v.want.get(key))}`)
              .join(', ')}`;
          });
          throw new Error(`${String(e)}; ${differ.join('; ')}; last worker:\n${worker.stderr().slice(-3000)}`);
        },
      );
      worker.child.kill('SIGTERM');
      expect((await worker.exited).code, worker.stderr().slice(-3000)).toBe(0);
      const final = await check();
      expect(final.views.got).toEqual(final.views.want);
      expect(final.owners.got).toEqual(final.owners.want);
    } finally {
      traffic.abort();
      for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      destroyClients(clients);
    }
  });
});

/** Views and time on page per `page|minute` over every record of the stream, as the example counts them. */
async function pageViewsInStream(
  clients: ReturnType<typeof testClients>,
  stream: string,
): Promise<Map<string, string>> {
  const sums = new Map<string, { views: number; ms: number }>();
  const shards = (await clients.kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  for (const shard of shards) {
    let it = (
      await clients.kinesis.send(
        new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
      )
    ).ShardIterator;
    while (it) {
      const out = await clients.kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
      for (const r of out.Records ?? []) {
        const v = JSON.parse(Buffer.from(r.Data!).toString()) as { page: string; at: number; ms: number };
        const k = `${v.page}|${bucket(v.at, '1m')}`;
        const s = sums.get(k) ?? { views: 0, ms: 0 };
        sums.set(k, { views: s.views + 1, ms: s.ms + v.ms });
      }
      if ((out.Records ?? []).length === 0 && out.MillisBehindLatest === 0) break;
      it = out.NextShardIterator;
    }
  }
  return new Map([...sums].map(([k, s]) => [k, `${s.views}/${s.ms}`]));
}
