import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * A condition on the item an effect writes, as a DynamoDB condition expression.
 * (Type-only imports: `core` loads no AWS client.)
 */
export interface EffectCondition {
  readonly expression: string;
  readonly names?: Readonly<Record<string, string>>;
  readonly values?: Readonly<Record<string, AttributeValue>>;
  /**
   * What a failed condition means. `'stale'`: the item already holds this change or a newer one
   * (a mirror's version check), so the effect is dropped and the rest of the commit goes on.
   * `'fail'`: the output can never apply; its records are isolated as a failed write would be.
   */
  readonly onFailure: 'stale' | 'fail';
}

interface EffectBase {
  /** Physical table name. */
  readonly table: string;
  /** Canonical id of the item's key within the table: effects on one table and id are coalesced. */
  readonly id: string;
  /** The item's key in DynamoDB's wire form. */
  readonly key: Readonly<Record<string, AttributeValue>>;
  /**
   * True when applying the effect again leaves the item as applying it once did (an event put
   * keyed by its content, a mirror's version-conditioned put): it is written without applied
   * marks (`src/core/applied-marks.ts`). Otherwise the write carries and checks the marks.
   */
  readonly idempotent?: boolean;
  /** Write capacity units of the write: one per started KB of the item. Default 1. */
  readonly units?: number;
}

/** Numeric increments of one item (`UpdateItem ADD`): effects on one item sum, field by field. */
export interface AddEffect extends EffectBase {
  readonly kind: 'add';
  readonly add: Readonly<Record<string, number>>;
}

/** A whole item written (`Put`); a later put or delete of the same item replaces it, unless `wins` says otherwise. */
export interface PutEffect extends EffectBase {
  readonly kind: 'put';
  readonly item: Readonly<Record<string, AttributeValue>>;
  readonly condition?: EffectCondition;
  /**
   * Whether this effect replaces `earlier`, staged before it for the same item. Default: it does
   * (the last staged wins, as writes applied one by one would). A mirror keeps the newer version.
   */
  readonly wins?: (earlier: ItemEffect) => boolean;
}

/** An item deleted; a later put or delete of the same item replaces it, unless `wins` says otherwise. */
export interface DeleteEffect extends EffectBase {
  readonly kind: 'delete';
  readonly condition?: EffectCondition;
  readonly wins?: (earlier: ItemEffect) => boolean;
}

/** The effects that replace one another rather than add up. */
export type ItemEffect = PutEffect | DeleteEffect;

/**
 * One write to one DynamoDB item, planned by a sink but not yet sent. A pipeline with
 * `guarantee: 'exactly-once'` gathers its sinks' effects, coalesces them per item, and commits
 * them together with the advance of its applied-through marks (see docs/exactly-once.md).
 *
 * @example
 * ```ts
 * const e: Effect = { kind: 'add', table: 'dev.page_views', id: 'home', key: { page: { S: 'home' } }, add: { views: 3 } };
 * ```
 */
export type Effect = AddEffect | PutEffect | DeleteEffect;
