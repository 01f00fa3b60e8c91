import type { CreateTableCommandInput, Projection } from '@aws-sdk/client-dynamodb';
import type { GsiSpec, KeyAttr, TableSpec } from '../../core/tables.js';

const keySchema = (pk: KeyAttr, sk?: KeyAttr) => [
  { AttributeName: pk.name, KeyType: 'HASH' as const },
  ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
];

function projection(p: GsiSpec['projection']): Projection {
  if (p === undefined || p === 'ALL') return { ProjectionType: 'ALL' };
  if (p === 'KEYS_ONLY') return { ProjectionType: 'KEYS_ONLY' };
  return { ProjectionType: 'INCLUDE', NonKeyAttributes: [...p] };
}

/** The CreateTable request for a spec under a physical name. */
export function createTableInput(spec: TableSpec, physicalName: string): CreateTableCommandInput {
  const attrs = new Map<string, KeyAttr>();
  for (const a of [
    spec.partitionKey,
    spec.sortKey,
    ...(spec.globalSecondaryIndexes ?? []).flatMap((g) => [g.partitionKey, g.sortKey]),
  ])
    if (a) attrs.set(a.name, a);
  const provisioned = spec.provisioned !== undefined;
  return {
    TableName: physicalName,
    AttributeDefinitions: [...attrs.values()].map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: keySchema(spec.partitionKey, spec.sortKey),
    BillingMode: provisioned ? 'PROVISIONED' : 'PAY_PER_REQUEST',
    ProvisionedThroughput: provisioned
      ? { ReadCapacityUnits: spec.provisioned!.read, WriteCapacityUnits: spec.provisioned!.write }
      : undefined,
    GlobalSecondaryIndexes: spec.globalSecondaryIndexes?.length
      ? spec.globalSecondaryIndexes.map((g) => ({
          IndexName: g.name,
          KeySchema: keySchema(g.partitionKey, g.sortKey),
          Projection: projection(g.projection),
          ProvisionedThroughput: provisioned
            ? {
                ReadCapacityUnits: g.provisioned?.read ?? spec.provisioned!.read,
                WriteCapacityUnits: g.provisioned?.write ?? spec.provisioned!.write,
              }
            : undefined,
        }))
      : undefined,
    StreamSpecification: spec.stream ? { StreamEnabled: true, StreamViewType: spec.stream } : undefined,
  };
}
