import type { AttributeValue, PutItemCommandInput } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { TributaryError } from '../../core/errors.js';
import { wireKeyProblem, type KeyRule } from '../../core/key-rules.js';
import type { ChangeKind, DynamoChange, KinesisDynamoChange, KinesisRecord } from '../../core/records.js';
import { itemSize, MAX_ITEM_BYTES } from '../../sinks/item-size.js';
import { keyString } from '../../sinks/key-string.js';
import {
  changeTimeVersion,
  MIRROR_DELETED_ATTRIBUTE,
  MIRROR_EXPIRES_ATTRIBUTE,
  MIRROR_VERSION_ATTRIBUTE,
  supersedes,
  type VersionValue,
} from './version.js';

/**
 * What a mirror accepts: changes straight from a table's stream, or read from Kinesis with the
 * {@link kinesisDynamoChanges} decoder (the Kinesis record, or its decoded value).
 */
export type MirrorInput<T> = DynamoChange<T> | KinesisDynamoChange<T> | KinesisRecord<KinesisDynamoChange<T>>;

/** How a mirror orders changes: by a version attribute of the items, or by the change's time and sequence number. */
export type MirrorVersioning =
  { readonly kind: 'changeTime' } | { readonly kind: 'attribute'; readonly attribute: string };

/** One conditional put a change becomes: the item (or tombstone) and the version it carries. */
export interface MirrorWrite {
  readonly key: Record<string, AttributeValue>;
  readonly keyString: string;
  readonly isDelete: boolean;
  readonly version: VersionValue;
  /** The whole item to put: the new image plus hidden attributes, or a tombstone. */
  readonly item: Record<string, AttributeValue>;
  /** Write capacity units: one per started KB. */
  readonly units: number;
}

export interface PlanOptions {
  readonly view: string;
  /** The mirror tables' key: partition key, then sort key (see `keyRules`). */
  readonly keys: readonly KeyRule[];
  readonly versioning: MirrorVersioning;
  /** Epoch seconds after which DynamoDB TTL may delete a tombstone. */
  readonly tombstoneExpiresAt: number;
}

interface Normalized<T> {
  readonly kind: ChangeKind;
  readonly keys: Record<string, unknown>;
  readonly oldImage?: T;
  readonly newImage?: T;
  readonly micros: number;
  readonly sequence?: string;
}

const MARSHALL = { removeUndefinedValues: true, convertClassInstanceToMap: true } as const;

function normalize<T>(input: MirrorInput<T>, view: string): Normalized<T> {
  if (input.type === 'dynamodb')
    return {
      ...input,
      micros: input.approximateCreationTime.getTime() * 1000,
      sequence: input.position.sequenceNumber,
    };
  const c = input.type === 'kinesis' ? input.value : input;
  if (c?.type !== 'kinesis-dynamodb') {
    throw new TributaryError(
      'sink.invalidItem',
      `mirror '${view}' got a Kinesis record that is not a DynamoDB change: read the stream with decode: kinesisDynamoChanges()`,
      { details: { view } },
    );
  }
  return { ...c, micros: c.approximateCreationMicros, sequence: c.sequenceNumber };
}

/**
 * Turns one change into the conditional write that applies it: an insert or modify puts the new
 * image, a remove puts a tombstone (key, version, `_tributary_deleted`, an expiry for TTL).
 * Throws a non-retryable `TributaryError` when the change can never be applied.
 *
 * @example
 * ```ts
 * const w = planMirrorWrite(change, { view: 'm', keys: [{ name: 'userId', role: 'partition' }], versioning: { kind: 'changeTime' }, tombstoneExpiresAt: 1_900_000_000 });
 * w.isDelete; // true for a remove
 * ```
 */
export function planMirrorWrite<T>(input: MirrorInput<T>, opts: PlanOptions): MirrorWrite {
  const c = normalize(input, opts.view);
  const key: Record<string, AttributeValue> = {};
  const keys = marshall(c.keys, MARSHALL) as Record<string, AttributeValue>;
  for (const rule of opts.keys) {
    const problem = wireKeyProblem(rule, keys[rule.name], 'mirror');
    if (problem)
      throw new TributaryError(
        'view.invalidKey',
        `mirror '${opts.view}': the change's ${problem} (is the mirror's key schema the source's?)`,
        { details: { view: opts.view, attribute: rule.name } },
      );
    key[rule.name] = keys[rule.name]!;
  }
  const isDelete = c.kind === 'remove';
  const image = isDelete ? c.oldImage : c.newImage;
  const versioning = opts.versioning;
  let version: VersionValue;
  const hidden: Record<string, AttributeValue> = {};
  if (versioning.kind === 'changeTime') {
    version = changeTimeVersion(c.micros, c.sequence);
    hidden[MIRROR_VERSION_ATTRIBUTE] = { S: version };
  } else {
    if (!image)
      throw missingImage(opts.view, isDelete ? 'old' : 'new', `its version attribute '${versioning.attribute}'`);
    const v = (image as Record<string, unknown>)[versioning.attribute];
    if (typeof v !== 'number' && typeof v !== 'string') {
      throw new TributaryError(
        'view.invalidVersion',
        `mirror '${opts.view}': version attribute '${versioning.attribute}' of the ${isDelete ? 'old' : 'new'} image is ${v === undefined ? 'missing' : `a ${typeof v}`}; it must be a number or a string`,
        {
          details: { view: opts.view, attribute: versioning.attribute },
        },
      );
    }
    version = v;
  }
  let item: Record<string, AttributeValue>;
  if (isDelete) {
    item = {
      ...key,
      ...hidden,
      [MIRROR_DELETED_ATTRIBUTE]: { BOOL: true },
      [MIRROR_EXPIRES_ATTRIBUTE]: { N: String(opts.tombstoneExpiresAt) },
    };
    if (versioning.kind === 'attribute') item[versioning.attribute] = marshall({ v: version }).v!;
  } else {
    if (!image) throw missingImage(opts.view, 'new', 'the item');
    item = { ...(marshall(image as Record<string, unknown>, MARSHALL) as Record<string, AttributeValue>), ...hidden };
  }
  const size = itemSize(item);
  if (size > MAX_ITEM_BYTES)
    throw new TributaryError(
      'sink.itemTooLarge',
      `mirror item of ${size} bytes (hidden attributes included) exceeds DynamoDB's 400 KB limit for view '${opts.view}'`,
      { details: { view: opts.view, size } },
    );
  return {
    key,
    keyString: keyString(
      key,
      opts.keys.map((k) => k.name),
    ),
    isDelete,
    version,
    item,
    units: Math.max(1, Math.ceil(size / 1024)),
  };
}

function missingImage(view: string, which: 'old' | 'new', what: string): TributaryError {
  return new TributaryError(
    'view.missingImage',
    `mirror '${view}': the change has no ${which} image to read ${what} from; the source stream must carry NEW_AND_OLD_IMAGES`,
    { details: { view } },
  );
}

/**
 * Of several writes, keeps per key the one a mirror would end with: the newest version (a delete
 * wins a tie with a put of the same version). Input order does not matter, so duplicates and
 * reordering within one batch coalesce to one write per key.
 *
 * @example
 * ```ts
 * latestPerKey([put(k, v2), put(k, v1), del(k, v3)]); // [del(k, v3)]
 * ```
 */
export function latestPerKey(writes: readonly MirrorWrite[]): MirrorWrite[] {
  const byKey = new Map<string, MirrorWrite>();
  for (const w of writes) {
    const held = byKey.get(w.keyString);
    if (!held || supersedes({ version: held.version, deleted: held.isDelete }, w.version, w.isDelete))
      byKey.set(w.keyString, w);
  }
  return [...byKey.values()];
}

/**
 * The PutItem request of a write, conditioned so that it applies only over nothing, over an item
 * without a version, or over an older version (a tombstone also over the live item of its own
 * version): the rule of {@link supersedes}, enforced by DynamoDB.
 *
 * @example
 * ```ts
 * await io.put(conditionalPut(w, { partitionKey: 'userId', versionAttribute: '_tributary_version' }));
 * ```
 */
export function conditionalPut(
  w: MirrorWrite,
  opts: { readonly partitionKey: string; readonly versionAttribute: string },
): Omit<PutItemCommandInput, 'TableName'> {
  const base = 'attribute_not_exists(#pk) OR attribute_not_exists(#v) OR #v < :v';
  return {
    Item: w.item,
    ConditionExpression: w.isDelete ? `${base} OR (#v = :v AND attribute_not_exists(#d))` : base,
    ExpressionAttributeNames: {
      '#pk': opts.partitionKey,
      '#v': opts.versionAttribute,
      ...(w.isDelete ? { '#d': MIRROR_DELETED_ATTRIBUTE } : {}),
    },
    ExpressionAttributeValues: { ':v': w.item[opts.versionAttribute]! },
  };
}
