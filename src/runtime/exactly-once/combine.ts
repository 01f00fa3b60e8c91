import type {
  AttributeValue,
  DeleteItemCommandInput,
  PutItemCommandInput,
  UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { AddEffect, Effect, EffectCondition } from '../../core/effects.js';
import { TributaryError } from '../../core/errors.js';

/** Effects by item: `${table}\0${id}`. */
export type EffectsByItem = Map<string, Effect>;

/** The key under which effects on one item coalesce. */
export const itemKeyOf = (e: Effect): string => `${e.table}\u0000${e.id}`;

/**
 * Adds `e` to the effects of its item, as applying both one after the other would leave it:
 * increments sum field by field; a put or delete replaces what came before it, unless its `wins`
 * says the earlier one stays (a mirror keeps the newer version). An add after a put (or the
 * reverse) on one item is refused: no view mixes them, and their sum has no single write.
 *
 * @example
 * ```ts
 * const m: EffectsByItem = new Map();
 * mergeEffect(m, { kind: 'add', table: 't', id: 'home', key, add: { views: 1 } });
 * mergeEffect(m, { kind: 'add', table: 't', id: 'home', key, add: { views: 2 } }); // views: 3
 * ```
 */
export function mergeEffect(into: EffectsByItem, e: Effect): void {
  const k = itemKeyOf(e);
  const held = into.get(k);
  if (!held) {
    into.set(k, e.kind === 'add' ? { ...e, add: { ...e.add } } : e);
    return;
  }
  if (held.kind === 'add' || e.kind === 'add') {
    if (held.kind !== 'add' || e.kind !== 'add')
      throw new TributaryError(
        'config.invalid',
        `effects on item ${e.id} of table ${e.table} mix increments with puts or deletes: give each view a table of its own`,
        { details: { table: e.table, id: e.id } },
      );
    const sums = held.add as Record<string, number>;
    for (const [f, v] of Object.entries(e.add)) sums[f] = (sums[f] ?? 0) + v;
    return;
  }
  if (!e.wins || e.wins(held)) into.set(k, e);
}

/** One shard's applied mark on an item write: its attribute, the first record the write carries, and the commit's end. */
export interface MarkOnWrite {
  readonly attribute: string;
  /** The write applies only if the item's mark is below this (the first record of the shard it carries). */
  readonly first: string;
  /** What the mark becomes: the end of this commit on the shard. */
  readonly end: string;
}

/** A write ready for the table's I/O. */
export type ItemWrite =
  | { readonly kind: 'update'; readonly input: Omit<UpdateItemCommandInput, 'TableName'>; readonly units: number }
  | { readonly kind: 'put'; readonly input: Omit<PutItemCommandInput, 'TableName'>; readonly units: number }
  | { readonly kind: 'delete'; readonly input: Omit<DeleteItemCommandInput, 'TableName'>; readonly units: number };

/**
 * The write of a coalesced effect, with its marks: `ADD` (and `SET` of the marks) for increments,
 * a put of the item with its marks, or a delete; conditioned on each mark being below the first
 * record that the write carries for its shard, and on the effect's own condition. Increments that
 * sum to zero still move the marks of an item that exists (`SET` alone, conditioned on it
 * existing): the parts may cancel out only because some were applied already (a replay after a
 * crash), and the condition failing is how the committer finds out. Undefined when there is
 * nothing to write: zero with no marks.
 *
 * @example
 * ```ts
 * itemWrite(effect, [{ attribute: '_tributary_at_k3Jx0aQ2bZ', first: '…', end: '…' }]);
 * // { kind: 'update', input: { UpdateExpression: 'ADD #f0 :f0 SET #m0 = :e0', ConditionExpression: '(attribute_not_exists(#m0) OR #m0 < :s0)', ... } }
 * ```
 */
export function itemWrite(e: Effect, marks: readonly MarkOnWrite[]): ItemWrite | undefined {
  const names: Record<string, string> = {};
  const values: Record<string, AttributeValue> = {};
  const conds: string[] = [];
  marks.forEach((m, i) => {
    names[`#m${i}`] = m.attribute;
    values[`:s${i}`] = { S: m.first };
    values[`:e${i}`] = { S: m.end };
    conds.push(`(attribute_not_exists(#m${i}) OR #m${i} < :s${i})`);
  });
  const own = e.kind === 'add' ? undefined : e.condition;
  if (own) conds.push(`(${withNames(own, names, values)})`);
  const condition = conds.length ? { ConditionExpression: conds.join(' AND ') } : {};
  const attrs = () => ({
    ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
    ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
  });
  const units = e.units ?? 1;
  if (e.kind === 'add') {
    const adds = addParts(e, names, values);
    const sets = marks.map((_, i) => `#m${i} = :e${i}`);
    if (adds.length === 0) {
      if (marks.length === 0) return undefined;
      // Nothing to add: an item that does not exist holds no mark, and is not created.
      names['#k'] = Object.keys(e.key)[0]!;
      return {
        kind: 'update',
        input: {
          Key: { ...e.key },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `${conds.join(' AND ')} AND attribute_exists(#k)`,
          ...attrs(),
        },
        units,
      };
    }
    return {
      kind: 'update',
      input: {
        Key: { ...e.key },
        UpdateExpression: `ADD ${adds.join(', ')}${sets.length ? ` SET ${sets.join(', ')}` : ''}`,
        ...condition,
        ...attrs(),
      },
      units,
    };
  }
  // A put or a delete sets no mark through an expression: drop the mark values (`:e`) it does not use.
  marks.forEach((_, i) => delete values[`:e${i}`]);
  if (e.kind === 'put') {
    const item: Record<string, AttributeValue> = { ...e.item };
    for (const m of marks) item[m.attribute] = { S: m.end };
    return { kind: 'put', input: { Item: item, ...condition, ...attrs() }, units };
  }
  return { kind: 'delete', input: { Key: { ...e.key }, ...condition, ...attrs() }, units };
}

function addParts(e: AddEffect, names: Record<string, string>, values: Record<string, AttributeValue>): string[] {
  const parts: string[] = [];
  let i = 0;
  for (const [field, v] of Object.entries(e.add)) {
    if (v === 0) continue;
    names[`#f${i}`] = field;
    values[`:f${i}`] = { N: String(v) };
    parts.push(`#f${i} :f${i}`);
    i++;
  }
  return parts;
}

/** An effect's own condition, its placeholders renamed so they cannot clash with the marks'. */
function withNames(c: EffectCondition, names: Record<string, string>, values: Record<string, AttributeValue>): string {
  let expr = c.expression;
  for (const [n, v] of Object.entries(c.names ?? {})) {
    const renamed = `#c_${n.slice(1)}`;
    names[renamed] = v;
    expr = expr.replace(new RegExp(`${escape(n)}(?![A-Za-z0-9_])`, 'g'), renamed);
  }
  for (const [n, v] of Object.entries(c.values ?? {})) {
    const renamed = `:c_${n.slice(1)}`;
    values[renamed] = v;
    expr = expr.replace(new RegExp(`${escape(n)}(?![A-Za-z0-9_])`, 'g'), renamed);
  }
  return expr;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
