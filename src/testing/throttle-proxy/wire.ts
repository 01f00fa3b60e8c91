import type { WireAttributeValue } from '../../core/dynamodb-json.js';

// DynamoDB's JSON 1.0 wire shapes, as far as the proxy reads them.

/** An item or key in a request body: binary values are base64 strings, not the SDK's `Uint8Array`s. */
export type Item = Readonly<Record<string, WireAttributeValue<string>>>;

/** A parsed JSON object from a request or response body. */
export type Json = Record<string, unknown>;

export type CapacityLevel = 'INDEXES' | 'TOTAL' | 'NONE';

/** One `ConsumedCapacity` entry. */
export interface WireCapacity {
  readonly TableName?: string;
  readonly CapacityUnits?: number;
  readonly Table?: { readonly CapacityUnits?: number };
  readonly GlobalSecondaryIndexes?: Readonly<Record<string, { readonly CapacityUnits?: number }>>;
  readonly LocalSecondaryIndexes?: Readonly<Record<string, { readonly CapacityUnits?: number }>>;
}

export interface WriteRequest {
  readonly PutRequest?: { readonly Item: Item };
  readonly DeleteRequest?: { readonly Key: Item };
}

export interface TransactWriteItem {
  readonly Put?: { readonly TableName: string; readonly Item: Item };
  readonly Update?: { readonly TableName: string; readonly Key: Item; readonly ExpressionAttributeValues?: Item };
  readonly Delete?: { readonly TableName: string; readonly Key: Item };
  readonly ConditionCheck?: { readonly TableName: string; readonly Key: Item };
}

export interface TransactGetItem {
  readonly Get?: { readonly TableName: string; readonly Key: Item };
}

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The table name of a `TableName` that may be given as an ARN (`arn:aws:dynamodb:…:table/orders`). */
export function tableNameOf(nameOrArn: string): string {
  const i = nameOrArn.startsWith('arn:') ? nameOrArn.indexOf(':table/') : -1;
  if (i < 0) return nameOrArn;
  const rest = nameOrArn.slice(i + ':table/'.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? rest : rest.slice(0, slash);
}
