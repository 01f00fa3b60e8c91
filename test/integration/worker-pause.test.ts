import { afterAll, describe, expect, it } from 'vitest';
import { destroyClients } from '../../src/runtime/clients.js';
import { LeaseTable } from '../../src/runtime/leases/table.js';
import { createStream } from '../../src/testing/tables.js';
import { eventually, testClients, unique } from '../helpers.js';
import { runApp, type AppProcess } from './app-process.js';

const FIXTURE = 'test/fixtures/drain-app.ts';
/** The workers' lease duration, which is also their balancing period. */
const LEASE_MS = 2_000;
const SHARDS = 4;
/** Two app processes on a loaded two-core machine: their start-up alone may take minutes. */
const TEST_MS = 360_000;

describe('a worker paused past its lease expiry', { timeout: TEST_MS }, () => {
  const clients = testClients();
  const running: AppProcess[] = [];
  afterAll(async () => {
    for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    destroyClients(clients);
  });

  it('after SIGCONT, lets each shard change owner at most once more: no lease is tossed to and fro', async () => {
    const stream = unique('pause');
    await createStream(clients.kinesis, stream, SHARDS);
    const env = { APP_NAME: unique('pause_app'), STREAM: stream, TRIBUTARY_LEASE_DURATION_MS: String(LEASE_MS) };
    const [a, b] = [runApp(FIXTURE, env), runApp(FIXTURE, env)];
    running.push(a, b);
    const leases = new LeaseTable(clients.dynamodb, `${env.APP_NAME}_leases`);
    // The workers create the lease table as they start: until then, nobody holds anything.
    const list = () =>
      leases.list().catch((e: unknown) => {
        if ((e as Error).name === 'ResourceNotFoundException') return [];
        throw e;
      });
    const owners = async () => new Map((await list()).map((l) => [l.shardId, l.owner]));
    const held = (o: Map<string, string | undefined>) => {
      const counts = new Map<string, number>();
      for (const w of o.values()) if (w !== undefined) counts.set(w, (counts.get(w) ?? 0) + 1);
      return counts;
    };
    const balanced = (o: Map<string, string | undefined>) =>
      o.size === SHARDS && [...held(o).values()].join() === `${SHARDS / 2},${SHARDS / 2}`;
    // Process start-up compiles the app: slow on a loaded machine.
    await eventually(async () => balanced(await owners()), 180_000, 'two leases each');
    // Worker ids are host:pid:suffix: pause the worker that owns some shard.
    const someOwner = [...(await owners()).values()][0]!;
    const paused = [a, b].find((p) => someOwner.includes(`:${p.child.pid}:`))!;
    // Paused between a take and its log line, it would log that start after SIGCONT, where it
    // counts as a second one: pause it only once it has logged a start of every shard it holds.
    await eventually(
      async () => {
        const mine = [...(await owners())].filter(([, w]) => w?.includes(`:${paused.child.pid}:`)).map(([s]) => s);
        const logged = new Set(shardStarts(paused.stderr()));
        return mine.length > 0 && mine.every((s) => logged.has(s));
      },
      120_000,
      'the worker to pause to log a start of each of its shards',
    );

    paused.child.kill('SIGSTOP');
    await eventually(
      async () => {
        const o = await owners();
        return o.size === SHARDS && held(o).size === 1 && [...o.values()].every((w) => w !== undefined);
      },
      120_000,
      'the other worker to take every lease',
    );
    // The other worker logs each shard it starts after its write to the lease table, and its log
    // reaches this process later still: wait for all four starts, so none is counted after SIGCONT.
    const other = paused === a ? b : a;
    await eventually(
      async () => new Set(shardStarts(other.stderr())).size === SHARDS,
      120_000,
      'the other worker to log a start of every shard',
    );
    // Each take of a lease starts its shard, and the worker logs it: count them from the moment the worker resumes.
    const offsets = [a, b].map((p) => p.stderr().lastIndexOf('\n') + 1);
    paused.child.kill('SIGCONT');
    const starts = () => {
      const perShard = new Map<string, number>();
      [a, b].forEach((p, i) => {
        for (const shard of shardStarts(p.stderr().slice(offsets[i])))
          perShard.set(shard, (perShard.get(shard) ?? 0) + 1);
      });
      return perShard;
    };

    // Until the shards are shared evenly again, then a few balancing periods more for any late toss.
    await eventually(async () => balanced(await owners()), 120_000, 'the shards shared evenly again');
    const settledAt = Date.now();
    await eventually(async () => Date.now() - settledAt > 3 * LEASE_MS, 120_000, 'quiet periods');

    // Two of the shards move back to the resumed worker, once each; none goes back and forth.
    const taken = starts();
    expect(
      [...taken].filter(([, n]) => n > 1),
      [a, b].map((p, i) => `worker ${p.child.pid}: ${shardStarts(p.stderr().slice(offsets[i])).join(' ')}`).join('; '),
    ).toEqual([]);
    expect(
      [...taken.values()].reduce((x, y) => x + y, 0),
      JSON.stringify([...taken]),
    ).toBe(SHARDS / 2);
    expect(balanced(await owners())).toBe(true);
  });
});

/** The shard of each "shard started" line in a worker's log, complete lines only (the last may still be arriving). */
function shardStarts(log: string): string[] {
  return log
    .slice(0, log.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((line) => line.includes('"shard started"'))
    .map((line) => (JSON.parse(line) as { shard: string }).shard);
}
