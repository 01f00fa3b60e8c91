import { map } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { app, dynamodbTable, indexView, mirror, pipeline, put, Runner, tableWriter } from '../../src/index.js';
import type { StreamViewType } from '../../src/core/images.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { createTable } from '../../src/testing/tables.js';
import { fastRunner, testClients, unique } from '../helpers.js';

type Order = {
  orderId: string;
  customerId: string;
};

describe('checks at start', () => {
  const clients = testClients();
  afterAll(() => destroyClients(clients));

  const sourceTable = async (stream: StreamViewType): Promise<string> => {
    const name = unique(`src_${stream.toLowerCase()}`);
    await createTable(clients.dynamodb, { name, partitionKey: { name: 'orderId', type: 'S' }, stream });
    return name;
  };
  const byCustomer = async () => {
    const table = unique('by_customer');
    const v = indexView({
      table,
      partitionKey: { name: 'customerId', type: 'S' },
      sortKey: { name: 'orderId', type: 'S' },
      key: (o: Order) => ({ customerId: o.customerId, orderId: o.orderId }),
    });
    for (const t of v.tables()) await createTable(clients.dynamodb, t);
    return v;
  };
  const startError = (def: ReturnType<typeof app>) =>
    new Runner(def, { ...fastRunner, clients }).start().then(
      () => undefined,
      (e: unknown) => e,
    );

  it('an index view on a KEYS_ONLY or NEW_IMAGE stream stops the start, naming table, view type and pipeline', async () => {
    const view = await byCustomer();
    for (const stream of ['KEYS_ONLY', 'NEW_IMAGE'] as const) {
      const src = await sourceTable(stream);
      const e = await startError(
        app(unique('chk'), [pipeline('by-customer').from(dynamodbTable<Order>(src)).to(view)]),
      );
      expect(e).toMatchObject({
        code: 'source.streamViewType',
        details: {
          table: src,
          streamViewType: stream,
          pipeline: 'by-customer',
          needs: { oldImage: true, newImage: true },
        },
      });
      expect((e as Error).message).toContain(src);
      expect((e as Error).message).toContain(stream);
      expect((e as Error).message).toContain("'by-customer'");
    }
  });

  it("a mirror needs new images only, and old ones too when its version is an item attribute; a pipeline's own needs are checked", async () => {
    const src = await sourceTable('NEW_IMAGE');
    const copy = unique('copy');
    await createTable(clients.dynamodb, { name: copy, partitionKey: { name: 'orderId', type: 'S' } });
    const byTime = mirror<Order>({ tables: copy, partitionKey: { name: 'orderId', type: 'S' } });
    const runner = new Runner(app(unique('chk'), [pipeline('copy').from(dynamodbTable<Order>(src)).to(byTime)]), {
      ...fastRunner,
      clients,
    });
    await runner.start();
    expect((await runner.stop()).error).toBeUndefined();

    const byVersion = mirror<Order>({
      tables: copy,
      partitionKey: { name: 'orderId', type: 'S' },
      version: { attribute: 'v' },
    });
    expect(
      await startError(app(unique('chk'), [pipeline('copy').from(dynamodbTable<Order>(src)).to(byVersion)])),
    ).toMatchObject({ code: 'source.streamViewType', details: { streamViewType: 'NEW_IMAGE', pipeline: 'copy' } });

    const keysOnly = await sourceTable('KEYS_ONLY');
    const audit = pipeline('audit')
      .from(dynamodbTable<Order>(keysOnly))
      .pipe(map((c) => put(c.newImage!)))
      .with({ needs: { newImage: true } })
      .to(tableWriter(copy));
    expect(await startError(app(unique('chk'), [audit]))).toMatchObject({
      code: 'source.streamViewType',
      details: { table: keysOnly, streamViewType: 'KEYS_ONLY', pipeline: 'audit', reader: 'the pipeline' },
    });
  });

  it('a missing source table is reported before a missing view table', async () => {
    const view = indexView({
      table: unique('no_view'),
      partitionKey: { name: 'customerId', type: 'S' },
      key: (o: Order) => ({ customerId: o.customerId }),
    });
    const missing = unique('no_source');
    expect(
      await startError(app(unique('chk'), [pipeline('p').from(dynamodbTable<Order>(missing)).to(view)])),
    ).toMatchObject({ code: 'source.notFound', details: { table: missing } });
  });
});
