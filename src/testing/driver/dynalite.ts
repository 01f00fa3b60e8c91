import { createRequire } from 'node:module';
import { TributaryError } from '../../core/errors.js';
import { itemSize } from '../../sinks/item-size.js';

/** A DynamoDB error as dynalite answers it: the HTTP status and DynamoDB's JSON body. */
export interface DynaliteError {
  readonly statusCode: number;
  readonly body: { readonly __type: string; readonly message?: string; readonly [k: string]: unknown };
}

type Callback = (err: (Error & Partial<DynaliteError>) | null, data?: Record<string, unknown>) => void;

/** The parts of dynalite (an in-memory DynamoDB on LevelDB's memory store) the test driver calls. */
export interface DynaliteModules {
  readonly db: {
    create(options: Record<string, unknown>): unknown;
    checkConditional(data: Record<string, unknown>, existing: unknown): (Error & Partial<DynaliteError>) | null;
    itemSize(item: unknown, ...rest: unknown[]): number;
  };
  readonly validations: {
    checkTypes(data: unknown, types: unknown): Record<string, unknown>;
    checkValidations(data: unknown, types: unknown, custom: unknown, store: unknown): void;
    /** Parses a request's expressions into `_condition`, `_updates`, ...; an error message, or undefined. */
    validateExpressions(data: Record<string, unknown>): string | undefined;
  };
  readonly action: (name: string) => (store: unknown, data: Record<string, unknown>, cb: Callback) => void;
  readonly validation: (name: string) => { readonly types: unknown; readonly custom?: unknown };
}

/** The DynamoDB operations dynalite implements. */
export const DYNALITE_OPERATIONS = new Set([
  'BatchGetItem',
  'BatchWriteItem',
  'CreateTable',
  'DeleteItem',
  'DeleteTable',
  'DescribeTable',
  'GetItem',
  'ListTables',
  'PutItem',
  'Query',
  'Scan',
  'UpdateItem',
  'UpdateTable',
]);

let loaded: DynaliteModules | undefined;

/**
 * Loads dynalite, an optional peer dependency of `tributary/testing`: its expression parsers
 * (PEG grammars for conditions, updates, key conditions and projections) and its actions are
 * what the test driver's tables run on, so expressions are parsed as DynamoDB parses them rather
 * than pattern-matched here.
 */
export function dynalite(): DynaliteModules {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  try {
    const lowerFirst = (s: string) => s[0]!.toLowerCase() + s.slice(1);
    loaded = {
      db: require('dynalite/db') as DynaliteModules['db'],
      validations: require('dynalite/validations') as DynaliteModules['validations'],
      action: (name) => require(`dynalite/actions/${lowerFirst(name)}`) as ReturnType<DynaliteModules['action']>,
      validation: (name) =>
        require(`dynalite/validations/${lowerFirst(name)}`) as ReturnType<DynaliteModules['validation']>,
    };
    // dynalite measures a string by its UTF-16 length where DynamoDB counts UTF-8 bytes: its
    // item size limit checks (called with the item alone) use tributary's measure instead. Its
    // other uses (capacity units, page sizes) pass more arguments and keep dynalite's.
    const db = loaded.db as { itemSize: (item: unknown, ...rest: unknown[]) => number };
    const own = db.itemSize;
    db.itemSize = (item, ...rest) =>
      rest.length === 0 ? itemSize(item as Parameters<typeof itemSize>[0]) : own(item, ...rest);
  } catch (e) {
    throw new TributaryError(
      'testing.driverMissing',
      "the test driver needs the 'dynalite' package: npm install --save-dev dynalite@^4",
      { cause: e },
    );
  }
  return loaded;
}

/** Runs one dynalite action as its HTTP handler would: types, validations, then the action. */
export function runAction(
  mods: DynaliteModules,
  store: unknown,
  operation: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const v = mods.validation(operation);
  const data = mods.validations.checkTypes(body, v.types);
  mods.validations.checkValidations(data, v.types, v.custom, store);
  return new Promise((resolve, reject) =>
    mods.action(operation)(store, data, (err, out) => (err ? reject(err) : resolve(out ?? {}))),
  );
}

/** True for an error dynalite answers with a DynamoDB status and body. */
export const isDynaliteError = (e: unknown): e is DynaliteError =>
  typeof (e as DynaliteError | undefined)?.statusCode === 'number' &&
  typeof (e as DynaliteError).body?.__type === 'string';
