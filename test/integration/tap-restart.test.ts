import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, describe, expect, it } from 'vitest';
import { destroyClients } from '../../src/runtime/clients.js';
import { LeaseTable } from '../../src/runtime/leases/table.js';
import { createStream, freePort } from '../../src/testing/index.js';
import { eventually, seededRandom, testClients, unique } from '../helpers.js';
import { runApp, type AppProcess } from './app-process.js';

const FIXTURE = 'test/fixtures/tap-app.ts';
const SHARDS = 2;
const PKS = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7'];
/** Three app processes one after another on a loaded two-core machine. */
const TEST_MS = 420_000;
const WAIT_MS = 150_000;

interface Click {
  readonly page: string;
  readonly at: number;
  readonly ms: number;
}
type Totals = Record<string, { clicks: number; ms: number }>;

describe('a tap across a crash, a restart and a handoff', { timeout: TEST_MS }, () => {
  const clients = testClients();
  const running: AppProcess[] = [];
  afterAll(() => {
    for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    destroyClients(clients);
  });

  it("keeps every record's part in the open windows once: none lost with the killed worker, none counted twice on replay or handoff", async () => {
    const stream = unique('tap_restart');
    await createStream(clients.kinesis, stream, SHARDS);
    const appName = unique('tap_restart_app');
    // Checkpoints lag: the next owner replays records the tap already holds.
    const env = { APP_NAME: appName, STREAM: stream, TRIBUTARY_CHECKPOINT_INTERVAL_MS: '600000' };
    const start = async () => {
      const port = await freePort();
      const p = runApp(FIXTURE, { ...env, TRIBUTARY_PORT: String(port) });
      running.push(p);
      return { p, url: `http://127.0.0.1:${port}/taps/per-page` };
    };
    const rand = seededRandom(12);
    const clicks: Click[] = [];
    let marker = 0;
    /** Puts `n` clicks on every partition key, then one end marker per key: once a tap counts every marker, it has read all before them. */
    const put = async (n: number) => {
      const batch = Array.from({ length: n }, (_, i) => ({
        page: `/p${Math.floor(rand() * 4)}`,
        at: Date.UTC(2026, 11, 7, 12, 0, 0) + clicks.length + i,
        ms: Math.floor(rand() * 500),
      }));
      clicks.push(...batch);
      marker++;
      const records = [
        ...batch.map((c, i) => ({ PartitionKey: PKS[i % PKS.length]!, Data: Buffer.from(JSON.stringify(c)) })),
        ...PKS.map((pk) => ({
          PartitionKey: pk,
          Data: Buffer.from(JSON.stringify({ page: `/end${marker}`, at: Date.UTC(2026, 11, 7, 12, 0, 0), ms: 0 })),
        })),
      ];
      for (let i = 0; i < records.length; i += 200)
        await clients.kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: records.slice(i, i + 200) }));
    };
    const want = (): Totals => {
      const t: Totals = {};
      for (const c of clicks) {
        const v = (t[c.page] ??= { clicks: 0, ms: 0 });
        v.clicks++;
        v.ms += c.ms;
      }
      for (let m = 1; m <= marker; m++) t[`/end${m}`] = { clicks: PKS.length, ms: 0 };
      return t;
    };
    /** The totals a worker's tap shows: its snapshot, the first event of its NDJSON feed. */
    const shown = async (url: string): Promise<Totals | undefined> => {
      const stop = new AbortController();
      try {
        const res = await fetch(`${url}?format=ndjson`, { signal: stop.signal });
        const reader = res.body!.getReader();
        let buf = '';
        while (!buf.includes('\n')) {
          const { value, done } = await reader.read();
          if (done) return undefined;
          buf += Buffer.from(value).toString();
        }
        const first = JSON.parse(buf.slice(0, buf.indexOf('\n'))) as {
          values: { key: string; value: { clicks: number; ms: number } }[];
        };
        return Object.fromEntries(first.values.map((v) => [v.key, v.value]));
      } catch {
        return undefined; // not listening yet
      } finally {
        stop.abort();
      }
    };
    const showsAll = async (url: string, what: string) => {
      const expected = want();
      // The last markers in: every record before them is counted, so the totals are final, not passing through.
      await eventually(
        async () => (await shown(url))?.[`/end${marker}`]?.clicks === PKS.length,
        WAIT_MS,
        `${what}: the end markers`,
      );
      expect(await shown(url), what).toEqual(expected);
    };

    const first = await start();
    // The first acknowledgment of a shard is checkpointed at once, the next not for ten minutes.
    await put(40);
    await showsAll(first.url, 'the first worker');
    await put(300);
    await showsAll(first.url, 'the first worker, later');

    // A crash: the checkpoints are behind the last 300, which the tap's state in the table holds.
    first.p.child.kill('SIGKILL');
    await first.p.exited;
    await put(200);
    const second = await start();
    await showsAll(second.url, 'the worker started after the crash');

    // A third worker: one shard is handed over to it, and both show the totals of both shards.
    const third = await start();
    const leases = new LeaseTable(clients.dynamodb, `${appName}_leases`);
    const pid = (p: AppProcess) => `:${p.child.pid}:`;
    await eventually(
      async () => {
        const owners = (await leases.list()).map((l) => l.owner ?? '');
        return (
          owners.filter((o) => o.includes(pid(second.p))).length === 1 &&
          owners.filter((o) => o.includes(pid(third.p))).length === 1
        );
      },
      WAIT_MS,
      'a shard each',
    );
    await put(200);
    await showsAll(third.url, 'the worker a shard was handed to');
    await showsAll(second.url, 'the worker that handed a shard over');
  });
});
