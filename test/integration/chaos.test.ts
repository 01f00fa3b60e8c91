import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, describe, expect, it } from 'vitest';
import { withoutMarks } from '../../src/core/applied-marks.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { LeaseTable } from '../../src/runtime/leases/table.js';
import { createStream, createTable, scanAll } from '../../src/testing/tables.js';
import { visibleMirrorItem } from '../../src/views/mirror/read.js';
import { MIRROR_EXPIRES_ATTRIBUTE } from '../../src/views/mirror/version.js';
import { eventually, seededRandom, testClients, unique } from '../helpers.js';
import { runApp, type AppProcess } from './app-process.js';
import { albumRows, albumTotals, photoTraffic, prefillPhotos, type Photo } from './photos.js';

const FIXTURE = 'test/fixtures/chaos-app.ts';
/** Several app processes started and killed on a loaded two-core machine. */
const TEST_MS = 360_000;
const CONVERGE_MS = 180_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('exactly-once views under crashes and pauses', { timeout: TEST_MS }, () => {
  const clients = testClients();
  const running: AppProcess[] = [];
  afterAll(async () => {
    for (const p of running) {
      if (p.child.exitCode !== null || p.child.signalCode === 'SIGKILL') continue;
      p.child.kill('SIGCONT');
      p.child.kill('SIGKILL');
    }
    destroyClients(clients);
  });

  async function setup(prefix: string) {
    const names = {
      APP_NAME: unique(`${prefix}_app`),
      SRC_TABLE: unique(`${prefix}_photos`),
      ALBUMS_TABLE: unique(`${prefix}_albums`),
      INDEX_TABLE: unique(`${prefix}_by_album`),
      MIRROR_TABLE: unique(`${prefix}_mirror`),
      CLICKS_TABLE: unique(`${prefix}_clicks`),
      CHANGES_STREAM: unique(`${prefix}_changes`),
      CLICKS_STREAM: unique(`${prefix}_click_stream`),
    };
    const S = 'S' as const;
    await createTable(clients.dynamodb, {
      name: names.SRC_TABLE,
      partitionKey: { name: 'id', type: S },
      stream: 'NEW_AND_OLD_IMAGES',
    });
    await createTable(clients.dynamodb, { name: names.ALBUMS_TABLE, partitionKey: { name: 'album', type: S } });
    await createTable(clients.dynamodb, {
      name: names.INDEX_TABLE,
      partitionKey: { name: 'album', type: S },
      sortKey: { name: 'id', type: S },
    });
    await createTable(clients.dynamodb, {
      name: names.MIRROR_TABLE,
      partitionKey: { name: 'id', type: S },
      ttlAttribute: MIRROR_EXPIRES_ATTRIBUTE,
    });
    await createTable(clients.dynamodb, { name: names.CLICKS_TABLE, partitionKey: { name: 'page', type: S } });
    await createStream(clients.kinesis, names.CHANGES_STREAM, 2);
    await createStream(clients.kinesis, names.CLICKS_STREAM, 2);
    return names;
  }

  const start = (names: Record<string, string>) => {
    const p = runApp(FIXTURE, names);
    running.push(p);
    return p;
  };

  /** Clicks on 20 pages, 100 a PutRecords call; adds them to `sent`. */
  async function clickTraffic(stream: string, calls: number, sent: Map<string, number>, seed: number) {
    const rand = seededRandom(seed);
    for (let c = 0; c < calls; c++) {
      const records = Array.from({ length: 100 }, () => {
        const page = `/p/${Math.floor(rand() * 20)}`;
        sent.set(page, (sent.get(page) ?? 0) + 1);
        return { Data: Buffer.from(JSON.stringify({ page })), PartitionKey: `${page}#${Math.floor(rand() * 1e6)}` };
      });
      await clients.kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: records }));
      await sleep(150);
    }
  }

  /** Every view, read as a user would see it, against the source table and the clicks sent. */
  async function compare(names: Record<string, string>, live: ReadonlyMap<string, Photo>, clicks: Map<string, number>) {
    const albums = albumRows(await scanAll(clients.dynamodb, names.ALBUMS_TABLE));
    const index = new Set(
      (await scanAll<Record<string, unknown>>(clients.dynamodb, names.INDEX_TABLE))
        .map((r) => withoutMarks(r))
        .map((r) => `${String(r.album)}/${String(r.id)}/${String(r.likes)}`),
    );
    const mirrored = new Set(
      (await scanAll<Record<string, unknown>>(clients.dynamodb, names.MIRROR_TABLE))
        .map((r) => visibleMirrorItem<Photo>(r))
        .filter((p): p is Photo => p !== undefined)
        .map((p) => `${p.id}/${p.album}/${p.likes}/${p.v}`),
    );
    const counted = new Map(
      (await scanAll<{ page: string; clicks: number }>(clients.dynamodb, names.CLICKS_TABLE)).map((r) => [
        r.page,
        r.clicks,
      ]),
    );
    return {
      albums: { got: albums, want: albumTotals(live) },
      index: { got: index, want: new Set([...live.values()].map((p) => `${p.album}/${p.id}/${p.likes}`)) },
      mirror: { got: mirrored, want: new Set([...live.values()].map((p) => `${p.id}/${p.album}/${p.likes}/${p.v}`)) },
      clicks: { got: counted, want: new Map(clicks) },
    };
  }

  const same = (c: Awaited<ReturnType<typeof compare>>) =>
    Object.values(c).every(({ got, want }) => JSON.stringify([...got].sort()) === JSON.stringify([...want].sort()));

  /** Over-count of the counters: what they hold beyond the truth, summed over keys (0 when exact). */
  const overCount = (c: Awaited<ReturnType<typeof compare>>) => {
    let over = 0;
    for (const [k, v] of c.albums.got) over += Math.max(0, v.photos - (c.albums.want.get(k)?.photos ?? 0));
    for (const [k, v] of c.clicks.got) over += Math.max(0, v - (c.clicks.want.get(k) ?? 0));
    return over;
  };

  /** Waits until every view equals the truth; on a timeout, says which views differ and by how much. */
  async function converge(
    names: Record<string, string>,
    live: ReadonlyMap<string, Photo>,
    clicks: Map<string, number>,
    what: string,
  ) {
    let last: Awaited<ReturnType<typeof compare>> | undefined;
    await eventually(async () => same((last = await compare(names, live, clicks))), CONVERGE_MS, what).catch(
      (e: unknown) => {
        const differ = Object.entries(last ?? {})
          .filter(([, v]) => JSON.stringify([...v.got].sort()) !== JSON.stringify([...v.want].sort()))
          .map(([k, v]) => `${k}: ${v.got.size} keys held, ${v.want.size} expected`);
        throw new Error(`${String(e)}; over-count ${last ? overCount(last) : '?'}; ${differ.join('; ')}`);
      },
    );
  }

  /** Every view equals the truth; the counters hold no over-count. */
  function expectExact(final: Awaited<ReturnType<typeof compare>>) {
    expect(overCount(final)).toBe(0);
    for (const view of Object.values(final)) expect(view.got).toEqual(view.want);
  }

  async function stopAll(workers: AppProcess[]) {
    for (const w of workers) w.child.kill('SIGTERM');
    for (const w of workers) expect((await w.exited).code, w.stderr().slice(-4000)).toBe(0);
  }

  it('two workers SIGKILLed and restarted at random while 5,000 changes and 4,000 clicks are written: every view equals a recomputation, counters with no over-count', async () => {
    const names = await setup('chaos');
    const workers = [start(names), start(names)];
    const rand = seededRandom(2026);
    let writing = true;
    let kills = 0;
    const killer = (async () => {
      while (writing || kills < 10) {
        await sleep(1_000 + rand() * 2_000);
        const i = rand() < 0.5 ? 0 : 1;
        workers[i]!.child.kill('SIGKILL');
        await workers[i]!.exited;
        kills++;
        workers[i] = start(names);
      }
    })();
    const clicks = new Map<string, number>();
    const clicking = clickTraffic(names.CLICKS_STREAM, 40, clicks, 7);
    const live = await photoTraffic(clients.dynamodb, names.SRC_TABLE, {
      seed: 5,
      changes: 5_000,
      between: () => sleep(100),
    });
    await clicking;
    writing = false;
    await killer;
    expect(kills).toBeGreaterThanOrEqual(10);

    await converge(names, live, clicks, 'every view to equal the source');
    await stopAll(workers);
    expectExact(await compare(names, live, clicks));
  });

  it('a worker paused past its lease expiry (SIGSTOP), while the other applies more, applies nothing stale after SIGCONT', async () => {
    const names = await setup('zombie');
    const workers = [start(names), start(names)];
    const leases = new LeaseTable(clients.dynamodb, `${names.APP_NAME}_leases`);
    const owners = async () =>
      (await leases.list().catch(() => [])).map((l) => l.owner).filter((o): o is string => o !== undefined);
    await eventually(async () => new Set(await owners()).size === 2, CONVERGE_MS, 'both workers to hold leases');

    const clicks = new Map<string, number>();
    let live = await photoTraffic(clients.dynamodb, names.SRC_TABLE, { seed: 1, changes: 1_000 });
    await clickTraffic(names.CLICKS_STREAM, 5, clicks, 1);
    await converge(names, live, clicks, 'the first changes applied');

    const someOwner = (await owners())[0]!;
    const paused = workers.find((p) => someOwner.includes(`:${p.child.pid}:`))!;
    const other = workers.find((p) => p !== paused)!;
    paused.child.kill('SIGSTOP');
    // While it sleeps, the other worker takes its leases and applies what follows.
    live = await photoTraffic(clients.dynamodb, names.SRC_TABLE, { seed: 2, changes: 1_500, live });
    await clickTraffic(names.CLICKS_STREAM, 10, clicks, 2);
    await eventually(
      async () => {
        const o = await owners();
        return o.length > 0 && o.every((w) => w.includes(`:${other.child.pid}:`));
      },
      CONVERGE_MS,
      'the other worker to take every lease',
    );
    await converge(names, live, clicks, 'the other worker to catch up');

    const offset = paused.stderr().length;
    paused.child.kill('SIGCONT');
    live = await photoTraffic(clients.dynamodb, names.SRC_TABLE, { seed: 3, changes: 500, live });
    await clickTraffic(names.CLICKS_STREAM, 5, clicks, 3);
    await converge(names, live, clicks, 'every view to equal the source');
    // The resumed worker learned that its leases were gone.
    expect(paused.stderr().slice(offset)).toContain('lease lost');
    await stopAll(workers);
    expectExact(await compare(names, live, clicks));
  });

  it('a backfill of 4,000 items, its workers SIGKILLed during the Scan while writes go on, resumes from its segment checkpoints: every view equals the table', async () => {
    const names = await setup('bfkill');
    const live = new Map<string, Photo>();
    await prefillPhotos(clients.dynamodb, names.SRC_TABLE, 4_000, live);
    const env = { ...names, BACKFILL: '1' };
    const workers = [runApp(FIXTURE, env), runApp(FIXTURE, env)];
    running.push(...workers);
    const leases = new LeaseTable(clients.dynamodb, `${names.APP_NAME}_leases`);
    const segmentsDone = async () =>
      (await leases.list().catch(() => [])).filter(
        (l) => l.shardId.startsWith('backfill-') && l.checkpoint.kind === 'SHARD_END',
      ).length;
    // Kill a worker whenever a segment has checkpointed a page but the Scan is not over, up to four times.
    const rand = seededRandom(99);
    let kills = 0;
    const writing = photoTraffic(clients.dynamodb, names.SRC_TABLE, {
      seed: 8,
      changes: 1_500,
      live,
      between: () => sleep(100),
    });
    while (kills < 4 && (await segmentsDone()) < 4) {
      await sleep(500 + rand() * 1_500);
      const scanning = (await leases.list().catch(() => [])).some(
        (l) => l.shardId.startsWith('backfill-') && l.checkpoint.kind === 'sequence',
      );
      if (!scanning) continue;
      const i = rand() < 0.5 ? 0 : 1;
      workers[i]!.child.kill('SIGKILL');
      await workers[i]!.exited;
      kills++;
      workers[i] = runApp(FIXTURE, env);
      running.push(workers[i]!);
    }
    await writing;
    expect(kills).toBeGreaterThan(0);
    const clicks = new Map<string, number>();
    await converge(names, live, clicks, 'every view to equal the table');
    expect(await segmentsDone()).toBe(4);
    await stopAll(workers);
    expectExact(await compare(names, live, clicks));
  });
});
