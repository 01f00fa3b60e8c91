import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { compareSequence } from '../../src/core/position.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { LeaseTable } from '../../src/runtime/leases/table.js';
import { createTable, scanAll } from '../../src/testing/tables.js';
import { eventually, testClients, unique } from '../helpers.js';
import { runApp, type AppProcess } from './app-process.js';

interface LogRow {
  id: string;
  run: string;
  seq: string;
  shard: string;
}

const FIXTURE = 'test/fixtures/log-app.ts';
/**
 * A test here starts two app processes and waits for each to apply hundreds of records: on a loaded
 * two-core machine (load average 13) that took over two minutes, so each wait and the test get more.
 */
const WAIT_MS = 150_000;
const TEST_MS = 360_000;
/** Small batches, each held by SLOW_MS: the first run is still mid-stream when it is stopped, however fast the machine. */
const BATCH_SIZE = '25';

describe('a running app, killed or stopped and restarted', { timeout: TEST_MS }, () => {
  const clients = testClients();
  const running: AppProcess[] = [];
  afterAll(async () => {
    for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    destroyClients(clients);
  });

  async function setup(prefix: string) {
    const names = { APP_NAME: unique(prefix), SRC_TABLE: unique(`${prefix}_src`), LOG_TABLE: unique(`${prefix}_log`) };
    await createTable(clients.dynamodb, {
      name: names.SRC_TABLE,
      partitionKey: { name: 'id', type: 'S' },
      stream: 'NEW_AND_OLD_IMAGES',
    });
    await createTable(clients.dynamodb, {
      name: names.LOG_TABLE,
      partitionKey: { name: 'id', type: 'S' },
      sortKey: { name: 'run', type: 'S' },
    });
    return names;
  }

  async function writeItems(table: string, from: number, to: number) {
    for (let i = from; i < to; i += 25) {
      const items = [];
      for (let j = i; j < Math.min(to, i + 25); j++)
        items.push({ PutRequest: { Item: marshall({ id: `item-${j}`, n: j }) } });
      await clients.dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [table]: items } }));
    }
  }

  const start = (names: Record<string, string>, env: Record<string, string>) => {
    const p = runApp(FIXTURE, { ...names, ...env });
    running.push(p);
    return p;
  };

  async function checkpoints(app: string): Promise<Map<string, string>> {
    const leases = await new LeaseTable(clients.dynamodb, `${app}_leases`).list();
    return new Map(
      leases.map((l) => [
        l.shardId,
        l.checkpoint.kind === 'sequence' ? l.checkpoint.sequenceNumber : l.checkpoint.kind,
      ]),
    );
  }

  it('after SIGKILL mid-stream, misses no record and re-applies only records after the last checkpoint', async () => {
    const names = await setup('kill');
    const total = 1000;
    await writeItems(names.SRC_TABLE, 0, total);

    const first = start(names, { RUN_ID: 'r1', SLOW_MS: '150', BATCH_SIZE });
    await eventually(
      async () => (await scanAll(clients.dynamodb, names.LOG_TABLE)).length >= 200,
      WAIT_MS,
      'first run to be mid-stream',
    );
    first.child.kill('SIGKILL');
    await first.exited;
    const before = await checkpoints(names.APP_NAME);
    const firstRows = await scanAll<LogRow>(clients.dynamodb, names.LOG_TABLE);
    expect(firstRows.length).toBeLessThan(total);
    // The first run got far enough to checkpoint: the test then shows what a checkpoint protects.
    expect([...before.values()].some((cp) => /^\d+$/.test(cp))).toBe(true);

    const second = start(names, { RUN_ID: 'r2', SLOW_MS: '0' });
    await eventually(
      async () => new Set((await scanAll<LogRow>(clients.dynamodb, names.LOG_TABLE)).map((r) => r.id)).size === total,
      WAIT_MS,
      'all records applied',
    );
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);

    const rows = await scanAll<LogRow>(clients.dynamodb, names.LOG_TABLE);
    expect(new Set(rows.map((r) => r.id)).size).toBe(total);
    const again = rows.filter((r) => r.run === 'r2');
    expect(again.length).toBeGreaterThan(0);
    for (const r of again) {
      const cp = before.get(r.shard) ?? 'no lease';
      // Applied by the second run: it must lie after the checkpoint the first run left.
      expect(cp).not.toBe('no lease');
      if (cp !== 'TRIM_HORIZON')
        expect(compareSequence(r.seq, cp), `${r.id} at ${r.seq} vs checkpoint ${cp}`).toBeGreaterThan(0);
    }
  });

  it('after SIGTERM, the checkpoint is the last applied record and a restart applies nothing twice', async () => {
    const names = await setup('term');
    await writeItems(names.SRC_TABLE, 0, 500);

    const first = start(names, { RUN_ID: 'r1', SLOW_MS: '100', BATCH_SIZE });
    await eventually(
      async () => (await scanAll(clients.dynamodb, names.LOG_TABLE)).length >= 150,
      WAIT_MS,
      'first run to be mid-stream',
    );
    first.child.kill('SIGTERM');
    const exit = await first.exited;
    expect(exit.code, first.stderr()).toBe(0);

    const firstRows = await scanAll<LogRow>(clients.dynamodb, names.LOG_TABLE);
    const cps = await checkpoints(names.APP_NAME);
    const lastApplied = new Map<string, string>();
    for (const r of firstRows)
      if (!lastApplied.has(r.shard) || compareSequence(r.seq, lastApplied.get(r.shard)!) > 0)
        lastApplied.set(r.shard, r.seq);
    for (const [shard, seq] of lastApplied) expect(cps.get(shard)).toBe(seq);
    // Released on the way out: the restart can take the lease at once.
    const leases = await new LeaseTable(clients.dynamodb, `${names.APP_NAME}_leases`).list();
    expect(leases.every((l) => l.owner === undefined)).toBe(true);

    await writeItems(names.SRC_TABLE, 500, 600);
    const second = start(names, { RUN_ID: 'r2', SLOW_MS: '0' });
    await eventually(
      async () => new Set((await scanAll<LogRow>(clients.dynamodb, names.LOG_TABLE)).map((r) => r.id)).size === 600,
      WAIT_MS,
      'all records applied',
    );
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);

    const rows = await scanAll<LogRow>(clients.dynamodb, names.LOG_TABLE);
    const byId = new Map<string, string[]>();
    for (const r of rows) byId.set(r.id, [...(byId.get(r.id) ?? []), r.run]);
    const twice = [...byId].filter(([, runs]) => runs.length > 1);
    expect(twice).toEqual([]);
    expect(byId.size).toBe(600);
  });
});
