import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TributaryError } from '../core/errors.js';
import { sleep } from '../core/time.js';

/** Creates a simple-keyed on-demand table if missing and waits for it to be ACTIVE. */
export async function ensureTableExists(
  ddb: DynamoDBClient,
  table: string,
  hashKey: string,
  rangeKey?: string,
): Promise<void> {
  try {
    await ddb.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: hashKey, AttributeType: 'S' },
          ...(rangeKey ? [{ AttributeName: rangeKey, AttributeType: 'S' as const }] : []),
        ],
        KeySchema: [
          { AttributeName: hashKey, KeyType: 'HASH' },
          ...(rangeKey ? [{ AttributeName: rangeKey, KeyType: 'RANGE' as const }] : []),
        ],
      }),
    );
  } catch (e) {
    if ((e as Error).name !== 'ResourceInUseException') throw e;
  }
  for (let i = 0; i < 600; i++) {
    const d = await ddb.send(new DescribeTableCommand({ TableName: table }));
    if (d.Table?.TableStatus === 'ACTIVE') return;
    await sleep(100);
  }
  throw new TributaryError('table.notActive', `table '${table}' did not become ACTIVE`, { details: { table } });
}
