import type { DynaliteModules } from './dynalite.js';
import { ddbError, pickKey, type WireAnswer, type WireItem } from './wire.js';

/** What the transactions need of the table store (MemoryDynamoDB), whose queue they run in. */
export interface TransactionHost {
  keysOf(table: string): Promise<readonly string[]>;
  get(table: string, key: WireItem): Promise<WireItem | undefined>;
  action(operation: string, body: Record<string, unknown>): Promise<Record<string, unknown>>;
  streamed(table: string): boolean;
  record(table: string, keys: readonly string[], before: WireItem | undefined, after: WireItem | undefined): void;
  mods(): DynaliteModules;
}

/**
 * TransactWriteItems: every condition is checked first (dynalite's `checkConditional`, on the
 * items as they are), and the transaction is cancelled with a reason per item if any fails;
 * then every write applies, with nothing else in between (requests run one at a time).
 */
export async function transactWrite(db: TransactionHost, body: Record<string, unknown>): Promise<WireAnswer> {
  type Entry = {
    Put?: Record<string, unknown>;
    Update?: Record<string, unknown>;
    Delete?: Record<string, unknown>;
    ConditionCheck?: Record<string, unknown>;
  };
  const items = (body.TransactItems as Entry[] | undefined) ?? [];
  if (items.length === 0 || items.length > 100)
    return ddbError(400, 'ValidationException', 'TransactItems must have between 1 and 100 items');
  const plans: { op: string; req: Record<string, unknown>; table: string; keys: readonly string[]; key: WireItem }[] =
    [];
  const seen = new Set<string>();
  for (const it of items) {
    const [op, req] = Object.entries(it)[0]! as [string, Record<string, unknown>];
    const table = String(req.TableName);
    const keys = await db.keysOf(table);
    const key = op === 'Put' ? pickKey(req.Item as WireItem, keys) : (req.Key as WireItem);
    const id = `${table}|${JSON.stringify(key)}`;
    if (seen.has(id))
      return ddbError(400, 'ValidationException', 'Transaction request cannot include multiple operations on one item');
    seen.add(id);
    plans.push({ op, req, table, keys, key });
  }
  // An item's image before is read where a condition or the table's stream needs it.
  const before = await Promise.all(
    plans.map((p) =>
      p.op === 'ConditionCheck' || p.req.ConditionExpression !== undefined || db.streamed(p.table)
        ? db.get(p.table, p.key)
        : undefined,
    ),
  );
  const parsed = plans.map((p) => structuredClone(p.req));
  for (const req of parsed) {
    const invalid = db.mods().validations.validateExpressions(req);
    if (invalid) return ddbError(400, 'ValidationException', invalid);
  }
  const reasons = plans.map((p, i) => {
    const failed = db.mods().db.checkConditional(parsed[i]!, before[i]);
    if (!failed) return { Code: 'None' };
    const reason: Record<string, unknown> = {
      Code: 'ConditionalCheckFailed',
      Message: 'The conditional request failed',
    };
    if (p.req.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && before[i]) reason.Item = before[i];
    return reason;
  });
  if (reasons.some((r) => r.Code !== 'None'))
    return ddbError(
      400,
      'TransactionCanceledException',
      `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
      { CancellationReasons: reasons },
    );
  for (const [i, p] of plans.entries()) {
    if (p.op === 'ConditionCheck') continue;
    const req = { ...p.req };
    delete req.ConditionExpression;
    delete req.ReturnValuesOnConditionCheckFailure;
    // The condition was checked above; values only it used would be refused as unused.
    pruneUnused(req);
    const operation = p.op === 'Put' ? 'PutItem' : p.op === 'Update' ? 'UpdateItem' : 'DeleteItem';
    await db.action(operation, req);
    if (db.streamed(p.table)) db.record(p.table, p.keys, before[i], await db.get(p.table, p.key));
  }
  return { status: 200, body: {} };
}

export async function transactGet(db: TransactionHost, body: Record<string, unknown>): Promise<WireAnswer> {
  const items = (body.TransactItems as { Get: Record<string, unknown> }[] | undefined) ?? [];
  const responses = [];
  for (const { Get } of items) {
    const out = await db.action('GetItem', { ...Get, ConsistentRead: true });
    responses.push(out.Item ? { Item: out.Item } : {});
  }
  return { status: 200, body: { Responses: responses } };
}

/** Drops expression names and values no expression left in the request uses. */
function pruneUnused(req: Record<string, unknown>): void {
  const text = ['UpdateExpression', 'ConditionExpression', 'ProjectionExpression']
    .map((k) => (typeof req[k] === 'string' ? (req[k] as string) : ''))
    .join(' ');
  for (const field of ['ExpressionAttributeNames', 'ExpressionAttributeValues']) {
    const map = req[field] as Record<string, unknown> | undefined;
    if (!map) continue;
    const kept = Object.fromEntries(
      Object.entries(map).filter(([k]) => new RegExp(`${escape(k)}(?![\\w])`).test(text)),
    );
    if (Object.keys(kept).length > 0) req[field] = kept;
    else delete req[field];
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
