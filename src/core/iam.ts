import type { Guarantee } from './pipeline.js';

/**
 * The IAM actions tributary's code calls, one per AWS operation it sends (DynamoDB Streams'
 * operations are `dynamodb:` actions too). A closed list: a wildcard action cannot be declared.
 */
export const IAM_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:CreateTable',
  'dynamodb:DeleteItem',
  'dynamodb:DescribeStream',
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:UpdateItem',
  'kinesis:DescribeStreamSummary',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
  'kinesis:PutRecords',
] as const;

/** One of {@link IAM_ACTIONS}. */
export type IamAction = (typeof IAM_ACTIONS)[number];

/**
 * What a permission is on, by physical name (environment prefix applied): region and account are
 * filled in when the policy is written.
 */
export type IamResource =
  /** One DynamoDB table. */
  | { readonly type: 'table'; readonly table: string }
  /** DynamoDB tables whose names match an IAM pattern (`?` one character, `*` any): an event table's periods. */
  | { readonly type: 'tables'; readonly pattern: string }
  /** Every stream of a DynamoDB table (a new stream gets a new label when the stream is re-enabled). */
  | { readonly type: 'tableStreams'; readonly table: string }
  /** A Kinesis data stream by name. */
  | { readonly type: 'kinesisStream'; readonly stream: string }
  /** A resource the app names by ARN (a stream given by ARN), used as it is. */
  | { readonly type: 'arn'; readonly arn: string };

/** Actions allowed on one resource. */
export interface Permission {
  readonly actions: readonly IamAction[];
  readonly resource: IamResource;
}

/**
 * What a source, sink or operator is told when asked for its permissions (`iam(env)`): the same
 * names it would see at run time.
 */
export interface IamEnv {
  /** The app's name (tables the runtime names after the app, such as `<app>_taps`). */
  readonly app: string;
  /** Physical name of a logical table (the environment prefix, as `tributary run --prefix` applies it). */
  readonly tableName: (logical: string) => string;
  /** Physical name of the app's lease table, where sources that keep state of their own (a backfill) keep it. */
  readonly stateTable: string;
  /** The guarantee of the pipeline asking: an exactly-once pipeline's sinks only stage effects, which the runtime writes. */
  readonly guarantee: Guarantee;
}

/**
 * Actions on a table read or written through the runner's `TableIO`, plus `DescribeTable`: the
 * capacity governor of every such table describes it (and a view's `open` checks its key schema).
 *
 * @example
 * ```ts
 * iam: (env) => [governedTable(env.tableName('page_clicks'), 'dynamodb:UpdateItem')]
 * ```
 */
export function governedTable(table: string, ...actions: IamAction[]): Permission {
  return { actions: ['dynamodb:DescribeTable', ...actions], resource: { type: 'table', table } };
}

/**
 * The actions the exactly-once committer sends for a sink's staged effects on a table: `add` is an
 * UpdateItem, `put` a PutItem, `delete` a DeleteItem, each conditioned on applied marks; an item
 * whose marks refused a write is read back (BatchGetItem) unless its effects are idempotent.
 *
 * @example
 * ```ts
 * stagedEffects(env.tableName('page_clicks'), ['add']); // DescribeTable, UpdateItem, BatchGetItem
 * ```
 */
export function stagedEffects(
  table: string | IamResource,
  kinds: readonly ('add' | 'put' | 'delete')[],
  idempotent = false,
): Permission {
  const byKind = { add: 'dynamodb:UpdateItem', put: 'dynamodb:PutItem', delete: 'dynamodb:DeleteItem' } as const;
  const actions: IamAction[] = ['dynamodb:DescribeTable', ...kinds.map((k) => byKind[k])];
  if (!idempotent) actions.push('dynamodb:BatchGetItem');
  return { actions, resource: typeof table === 'string' ? { type: 'table', table } : table };
}

/**
 * A sink that puts and deletes whole items (table writers, index views): BatchWriteItem, or
 * the exactly-once committer's PutItem and DeleteItem.
 */
export function itemWrites(env: IamEnv, logicalTable: string): Permission {
  const table = env.tableName(logicalTable);
  return env.guarantee === 'exactly-once'
    ? stagedEffects(table, ['put', 'delete'])
    : governedTable(table, 'dynamodb:BatchWriteItem');
}
