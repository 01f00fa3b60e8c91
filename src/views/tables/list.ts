import { paginateListTables, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * The names of every table of the account and region, through the SDK's paginator (ListTables
 * returns at most 100 names a call).
 *
 * @example
 * ```ts
 * const ours = (await listTableNames(ddb)).filter((n) => n.startsWith('dev_'));
 * ```
 */
export async function listTableNames(ddb: DynamoDBClient): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListTables({ client: ddb }, {})) names.push(...(page.TableNames ?? []));
  return names;
}
