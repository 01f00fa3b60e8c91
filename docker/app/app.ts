// The app the Dockerfile puts in its image unless told another (`--build-arg APP_DIR=...`), and
// the small app test/integration/packed.test.ts runs from the packed tarball: orders from a
// DynamoDB table's stream, indexed by customer. It imports tributary as a user's project does.
// On local emulators, with generated orders: `npx tributary dev app.ts`.
import { PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { setTimeout as delay } from 'node:timers/promises';
import { app, dynamodbTable, indexView, pipeline } from 'tributary';

type Order = { orderId: string; customerId: string; total: number };

const ordersByCustomer = pipeline('orders-by-customer')
  .from(dynamodbTable<Order>('orders'))
  .to(
    indexView({
      table: 'orders_by_customer',
      partitionKey: { name: 'customerId', type: 'S' },
      sortKey: { name: 'orderId', type: 'S' },
      key: (o: Order) => ({ customerId: o.customerId, orderId: o.orderId }),
      project: ['total'],
    }),
  );

export default app('orders', [ordersByCustomer], {
  dev: {
    // The source table, which `tributary dev` (and `createAppTables`) create with its stream.
    tables: [{ name: 'orders', partitionKey: { name: 'orderId', type: 'S' }, stream: 'NEW_AND_OLD_IMAGES' }],
    /** An order every 50 ms, for five customers. */
    async traffic({ clients, tableName, signal }) {
      for (let n = 1; !signal.aborted; n++) {
        const item = { orderId: { S: `o${n}` }, customerId: { S: `c${n % 5}` }, total: { N: String(n) } };
        await clients.dynamodb.send(new PutItemCommand({ TableName: tableName('orders'), Item: item }));
        await delay(50, undefined, { signal }).catch(() => undefined);
      }
    },
    async report({ clients, tableName }) {
      const count = (table: string) =>
        clients.dynamodb.send(new ScanCommand({ TableName: tableName(table), Select: 'COUNT' })).then((r) => r.Count);
      return `rows: orders ${await count('orders')}, orders_by_customer ${await count('orders_by_customer')}`;
    },
  },
});
