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
  /** The existing table cannot become the spec without being recreated (its keys differ): never done automatically. */
  | {
      readonly kind: 'conflict';
      readonly spec: TableSpec;
      readonly physical: string;
      readonly problems: readonly string[];
    };

/**
 * Compares a spec with the table as DescribeTable shows it (undefined when missing). Key schema
 * differences are conflicts; capacity, stream and missing indexes are updates.
 */
export function planTable(spec: TableSpec, physical: string, existing: TableDescription | undefined): TableAction {
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
  const stream = existing.StreamSpecification?.StreamEnabled ? existing.StreamSpecification.StreamViewType : undefined;
  if (spec.stream && stream !== spec.stream)
    changes.push(stream ? `stream ${stream} -> ${spec.stream} (disable, then enable)` : `enable stream ${spec.stream}`);
  const have = new Set((existing.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName));
  for (const g of spec.globalSecondaryIndexes ?? []) if (!have.has(g.name)) changes.push(`add index ${g.name}`);
  return changes.length ? { kind: 'update', spec, physical, changes } : { kind: 'unchanged', spec, physical };
}
