import type { TableDescription } from '@aws-sdk/client-dynamodb';
import type { TableSpec } from '../../core/tables.js';

/** What `tables create` would do to one table. */
export type TableAction =
  | { readonly kind: 'create'; readonly spec: TableSpec; readonly physical: string }
  | { readonly kind: 'unchanged'; readonly spec: TableSpec; readonly physical: string }
  | {
      readonly kind: 'update';
      readonly spec: TableSpec;
      readonly physical: string;
      readonly changes: readonly string[];
    }
  /** The existing table cannot become the spec without being recreated (its keys differ) or without consent (its stream): never done automatically. */
  | {
      readonly kind: 'conflict';
      readonly spec: TableSpec;
      readonly physical: string;
      readonly problems: readonly string[];
    };

/** How far `tables create` may go with an existing table. */
export interface PlanOptions {
  /**
   * Change the view type of an enabled stream (DynamoDB does it by disabling the stream, then
   * enabling a new one). Default false: the change is a conflict, since every consumer's
   * checkpoints lie in the old stream and are orphaned.
   */
  readonly allowStreamChange?: boolean;
}

/**
 * Compares a spec with the table as DescribeTable shows it (undefined when missing). Key schema
 * differences are conflicts, and so is a stream whose view type differs unless
 * `allowStreamChange`; capacity, enabling a stream and missing indexes are updates.
 *
 * @example
 * ```ts
 * const a = planTable(spec, 'dev_orders', (await ddb.send(new DescribeTableCommand({ TableName: 'dev_orders' }))).Table);
 * if (a.kind === 'conflict') console.error(a.problems);
 * ```
 */
export function planTable(
  spec: TableSpec,
  physical: string,
  existing: TableDescription | undefined,
  options: PlanOptions = {},
): TableAction {
  if (!existing) return { kind: 'create', spec, physical };
  const problems: string[] = [];
  const key = (t: 'HASH' | 'RANGE') => existing.KeySchema?.find((k) => k.KeyType === t)?.AttributeName;
  const typeOf = (n: string) => existing.AttributeDefinitions?.find((a) => a.AttributeName === n)?.AttributeType;
  if (key('HASH') !== spec.partitionKey.name || typeOf(spec.partitionKey.name) !== spec.partitionKey.type)
    problems.push(
      `partition key is ${key('HASH')} (${typeOf(key('HASH') ?? '')}), spec wants ${spec.partitionKey.name} (${spec.partitionKey.type})`,
    );
  if (key('RANGE') !== spec.sortKey?.name || (spec.sortKey && typeOf(spec.sortKey.name) !== spec.sortKey.type))
    problems.push(`sort key is ${key('RANGE') ?? 'none'}, spec wants ${spec.sortKey?.name ?? 'none'}`);
  const stream = existing.StreamSpecification?.StreamEnabled ? existing.StreamSpecification.StreamViewType : undefined;
  const streamChange = spec.stream !== undefined && stream !== undefined && stream !== spec.stream;
  if (streamChange && !options.allowStreamChange)
    problems.push(
      `stream is ${stream}, spec wants ${spec.stream}: changing it disables the stream and enables a new one, orphaning every consumer's checkpoints (pass --allow-stream-change to do it)`,
    );
  if (problems.length) return { kind: 'conflict', spec, physical, problems };

  const changes: string[] = [];
  const mode =
    existing.BillingModeSummary?.BillingMode ??
    (existing.ProvisionedThroughput?.WriteCapacityUnits ? 'PROVISIONED' : 'PAY_PER_REQUEST');
  if (spec.provisioned) {
    const p = existing.ProvisionedThroughput;
    if (mode !== 'PROVISIONED')
      changes.push(`billing on-demand -> provisioned ${spec.provisioned.read}/${spec.provisioned.write}`);
    else if (p?.ReadCapacityUnits !== spec.provisioned.read || p?.WriteCapacityUnits !== spec.provisioned.write)
      changes.push(
        `capacity ${p?.ReadCapacityUnits}/${p?.WriteCapacityUnits} -> ${spec.provisioned.read}/${spec.provisioned.write} (read/write)`,
      );
  } else if (mode === 'PROVISIONED') changes.push('billing provisioned -> on-demand');
  if (streamChange) changes.push(`stream ${stream} -> ${spec.stream} (disable, then enable)`);
  else if (spec.stream && !stream) changes.push(`enable stream ${spec.stream}`);
  const have = new Set((existing.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName));
  for (const g of spec.globalSecondaryIndexes ?? []) if (!have.has(g.name)) changes.push(`add index ${g.name}`);
  return changes.length ? { kind: 'update', spec, physical, changes } : { kind: 'unchanged', spec, physical };
}
