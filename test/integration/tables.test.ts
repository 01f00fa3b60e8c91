import { spawnSync } from 'node:child_process';
import { CreateTableCommand, DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { appTables } from '../../src/core/app-tables.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { waitTableActive } from '../../src/sinks/waiters.js';
import { createTable, deleteTable } from '../../src/testing/tables.js';
import { createTableInput } from '../../src/views/tables/create-input.js';
import { TableManager } from '../../src/views/tables/manager.js';
import { tablePrefix } from '../../src/views/tables/naming.js';
import fixture from '../fixtures/tables-app.js';
import { testClients, unique } from '../helpers.js';

function cli(args: string[]) {
  const e = inject('endpoints');
  return spawnSync(process.execPath, ['bin/tributary.js', 'tables', ...args], {
    env: {
      ...process.env,
      TRIBUTARY_DYNAMODB_ENDPOINT: e.dynamodb,
      TRIBUTARY_KINESIS_ENDPOINT: e.kinesis,
      AWS_REGION: 'us-east-1',
    },
    input: '',
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('table specs', () => {
  const clients = testClients();
  afterAll(() => destroyClients(clients));

  it('creates the declared tables with keys, index, capacity, stream and TTL; creating twice is a no-op', async () => {
    const prefix = `${unique('t')}_`;
    const m = new TableManager(clients.dynamodb, tablePrefix(prefix));
    const specs = appTables(fixture);
    expect((await m.plan(specs)).map((a) => a.kind)).toEqual(['create', 'create']);
    await m.create(specs);
    const copy = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: `${prefix}tf_copy` }))).Table!;
    expect(copy.ProvisionedThroughput?.WriteCapacityUnits).toBe(10);
    expect(copy.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(['by_owner']);
    const ttl = await clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: `${prefix}tf_copy` }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expiresAt');
    const src = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: `${prefix}tf_source` }))).Table!;
    expect(src.StreamSpecification?.StreamViewType).toBe('NEW_AND_OLD_IMAGES');

    const again = await m.create(specs);
    expect(again.map((a) => a.kind)).toEqual(['unchanged', 'unchanged']);
    // Through the CLI too: plan shows nothing to do.
    const plan = cli(['plan', 'test/fixtures/tables-app.ts', '--prefix', prefix, '--json']);
    expect(plan.status, plan.stderr).toBe(0);
    expect((JSON.parse(plan.stdout) as { kind: string }[]).map((a) => a.kind)).toEqual(['unchanged', 'unchanged']);
  });

  it('plans a capacity change as an update and applies it', async () => {
    const prefix = `${unique('u')}_`;
    // The index exists already: in a full test run DynamoDB Local sometimes leaves an index added to
    // a live table CREATING for minutes, so adding one is covered by the plan's unit test only.
    const spec = appTables(fixture).find((t) => t.name === 'tf_copy')!;
    await createTable(clients.dynamodb, { ...spec, provisioned: { read: 1, write: 1 } }, `${prefix}tf_copy`);
    const m = new TableManager(clients.dynamodb, tablePrefix(prefix));
    const [, copy] = await m.plan(appTables(fixture));
    expect(copy!.kind).toBe('update');
    expect(copy!.kind === 'update' && copy!.changes).toEqual(['capacity 1/1 -> 5/10 (read/write)']);
    await m.create(appTables(fixture));
    expect((await m.plan(appTables(fixture))).map((a) => a.kind)).toEqual(['unchanged', 'unchanged']);
  });

  it('reports a table whose keys differ as a conflict and never recreates it', async () => {
    const prefix = `${unique('c')}_`;
    await createTable(
      clients.dynamodb,
      { name: 'x', partitionKey: { name: 'other', type: 'N' } },
      `${prefix}tf_source`,
    );
    const m = new TableManager(clients.dynamodb, tablePrefix(prefix));
    await expect(m.create(appTables(fixture))).rejects.toMatchObject({ code: 'config.invalid' });
    const d = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: `${prefix}tf_source` }))).Table!;
    expect(d.KeySchema?.[0]?.AttributeName).toBe('other');
  });

  it("never changes an enabled stream's view type unless --allow-stream-change: it would orphan every checkpoint", async () => {
    const prefix = `${unique('s')}_`;
    const source = `${prefix}tf_source`;
    const spec = appTables(fixture).find((t) => t.name === 'tf_source')!;
    await createTable(clients.dynamodb, { ...spec, stream: 'KEYS_ONLY' }, source);
    const streamOf = async () => (await clients.dynamodb.send(new DescribeTableCommand({ TableName: source }))).Table!;
    const before = await streamOf();
    const m = new TableManager(clients.dynamodb, tablePrefix(prefix));
    await expect(m.create(appTables(fixture))).rejects.toMatchObject({
      code: 'config.invalid',
      details: { conflicts: [{ table: source }] },
    });
    const refused = cli(['create', 'test/fixtures/tables-app.ts', '--prefix', prefix]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('--allow-stream-change');
    const kept = await streamOf();
    expect(kept.LatestStreamArn).toBe(before.LatestStreamArn);
    expect(kept.StreamSpecification).toMatchObject({ StreamEnabled: true, StreamViewType: 'KEYS_ONLY' });

    const allowed = cli(['create', 'test/fixtures/tables-app.ts', '--prefix', prefix, '--allow-stream-change']);
    expect(allowed.status, allowed.stderr).toBe(0);
    const changed = await streamOf();
    expect(changed.StreamSpecification).toMatchObject({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(changed.LatestStreamArn).not.toBe(before.LatestStreamArn);
    await m.drop(await m.list());
  });

  it('plan lists the source tables that do not exist and that no spec declares', async () => {
    const prefix = `${unique('m')}_`;
    const plan = cli(['plan', 'test/fixtures/tables-undeclared-app.ts', '--prefix', prefix, '--json']);
    expect(plan.status, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout)).toEqual([
      { kind: 'create', physical: `${prefix}tu_copy` },
      { kind: 'missingSource', physical: `${prefix}tu_orders`, pipelines: ['copy'] },
    ]);
    const text = cli(['plan', 'test/fixtures/tables-undeclared-app.ts', '--prefix', prefix]);
    expect(text.stdout).toContain(`? missing source ${prefix}tu_orders: read by copy`);
  });

  it('drop never touches a table outside the prefix, and asks first', async () => {
    const prefix = `${unique('d')}_`;
    const m = new TableManager(clients.dynamodb, tablePrefix(prefix));
    await m.create(appTables(fixture));
    for (const t of [fixture.leaseTable, fixture.deadLetters.tableName])
      await createTable(clients.dynamodb, { name: t, partitionKey: { name: 'k', type: 'S' } }, `${prefix}${t}`);
    // Decoys: the same logical names without the prefix, and under a prefix that merely starts the same.
    const outside = [`tf_copy`, `${prefix.slice(0, -1)}x_tf_copy`];
    for (const n of outside)
      await createTable(clients.dynamodb, { name: n, partitionKey: { name: 'id', type: 'S' } }, n);

    await expect(m.drop(['tf_copy'])).rejects.toMatchObject({ code: 'config.invalid' });
    const noPrefix = cli(['drop', 'test/fixtures/tables-app.ts', '--yes']);
    expect(noPrefix.status).toBe(2);
    // No terminal to confirm on: nothing is dropped without --yes.
    const unconfirmed = cli(['drop', 'test/fixtures/tables-app.ts', '--prefix', prefix]);
    expect(unconfirmed.status).toBe(1);
    expect(await m.list()).toEqual([
      `${prefix}tables_fixture_dead_letters`,
      `${prefix}tables_fixture_leases`,
      `${prefix}tf_copy`,
      `${prefix}tf_source`,
    ]);

    // The lease and dead-letter tables go with the app's tables (or a new start would resume old
    // checkpoints into empty views); the source table stays unless asked for.
    const dropped = cli(['drop', 'test/fixtures/tables-app.ts', '--prefix', prefix, '--yes']);
    expect(dropped.status, dropped.stderr).toBe(0);
    expect(dropped.stdout).toContain(`keep ${prefix}tf_source`);
    expect(await m.list()).toEqual([`${prefix}tf_source`]);
    const sources = cli(['drop', 'test/fixtures/tables-app.ts', '--prefix', prefix, '--yes', '--include-sources']);
    expect(sources.status, sources.stderr).toBe(0);
    expect(await m.list()).toEqual([]);
    for (const n of outside) {
      const d = await clients.dynamodb.send(new DescribeTableCommand({ TableName: n }));
      expect(d.Table?.TableName).toBe(n);
      await deleteTable(clients.dynamodb, n);
    }
  });

  it('waits for a table until it is ACTIVE, and gives up on one that never comes with a short, retryable error', async () => {
    const name = unique('w');
    const waiting = waitTableActive(clients.dynamodb, name, { maxWaitSeconds: 60 });
    await clients.dynamodb.send(
      new CreateTableCommand(createTableInput({ name, partitionKey: { name: 'id', type: 'S' } }, name)),
    );
    await waiting;
    const d = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: name }))).Table!;
    expect(d.TableStatus).toBe('ACTIVE');
    await deleteTable(clients.dynamodb, name);

    const never = unique('never');
    const err = await waitTableActive(clients.dynamodb, never, { maxWaitSeconds: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'table.notActive', retryable: true, details: { table: never } });
    // What the waiter saw, not the SDK's whole response.
    expect(String((err as Error).cause)).toMatch(/TIMEOUT.*non-existent table/);
    expect(String((err as Error).cause).length).toBeLessThan(1_000);
  });
});
