import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { waitTableActive } from './waiters.js';

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
  await waitTableActive(ddb, table, { maxWaitSeconds: 60 });
}
