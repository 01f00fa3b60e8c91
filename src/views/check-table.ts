import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { TributaryError } from '../core/errors.js';
import { rethrowMissing } from '../core/not-found.js';
import type { SinkEnv } from '../core/sink.js';
import type { KeyAttr } from '../core/tables.js';
import { withRetry } from '../core/retry.js';

/**
 * Checks, when a view opens, that its table exists with the declared key schema: a missing
 * table (`view.tableMissing`) or a different key (`config.invalid`) stops the app at start
 * instead of sending every record to the dead letters.
 *
 * @example
 * ```ts
 * await checkViewTable(env, "index view 'user_albums'", env.tableName('user_albums'), { name: 'userId', type: 'S' });
 * ```
 */
export async function checkViewTable(
  env: SinkEnv,
  what: string,
  physical: string,
  partitionKey: KeyAttr,
  sortKey?: KeyAttr,
): Promise<void> {
  const described = await rethrowMissing(
    () => withRetry(() => env.clients.dynamodb.send(new DescribeTableCommand({ TableName: physical }))),
    (cause) =>
      new TributaryError(
        'view.tableMissing',
        `${what}: table '${physical}' does not exist (create the app's tables first, e.g. \`tributary tables create\`)`,
        { details: { table: physical }, cause },
      ),
  );
  const t = described.Table;
  const actual = (role: 'HASH' | 'RANGE'): string => {
    const name = t?.KeySchema?.find((k) => k.KeyType === role)?.AttributeName;
    const type = t?.AttributeDefinitions?.find((a) => a.AttributeName === name)?.AttributeType;
    return name ? `${name} (${type})` : 'none';
  };
  const show = (a?: KeyAttr) => (a ? `${a.name} (${a.type})` : 'none');
  if (show(partitionKey) !== actual('HASH') || show(sortKey) !== actual('RANGE')) {
    throw new TributaryError(
      'config.invalid',
      `${what}: table '${physical}' has key ${actual('HASH')} / ${actual('RANGE')}, the view declares ${show(partitionKey)} / ${show(sortKey)}`,
      { details: { table: physical } },
    );
  }
}
