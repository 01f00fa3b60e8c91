/** Attributes tributary adds to mirror items; {@link visibleMirrorItem} removes them. */
export const MIRROR_VERSION_ATTRIBUTE = '_tributary_version';
export const MIRROR_DELETED_ATTRIBUTE = '_tributary_deleted';
export const MIRROR_EXPIRES_ATTRIBUTE = '_tributary_expires';
export const MIRROR_HIDDEN_ATTRIBUTES: readonly string[] = [
  MIRROR_VERSION_ATTRIBUTE,
  MIRROR_DELETED_ATTRIBUTE,
  MIRROR_EXPIRES_ATTRIBUTE,
];

const MICROS_DIGITS = 17;
const SEQUENCE_DIGITS = 40;

/**
 * The version of a change by its time: creation time in epoch microseconds (17 digits), a dot,
 * and the stream sequence number (40 digits), zero-padded so that versions order as strings.
 * The sequence number breaks ties within one timestamp (DynamoDB Streams gives whole seconds):
 * along a shard lineage it grows with every change of an item. Without one (the native Kinesis
 * format), ties stay ties and the first change applied wins.
 *
 * @example
 * ```ts
 * changeTimeVersion(1_700_000_000_000_000, '4000000000012345') < changeTimeVersion(1_700_000_000_000_000, '4000000000012346'); // true
 * ```
 */
export function changeTimeVersion(micros: number, sequenceNumber: string | undefined): string {
  const t = Math.max(0, Math.trunc(micros)).toString().padStart(MICROS_DIGITS, '0');
  const s = (sequenceNumber && /^\d+$/.test(sequenceNumber) ? sequenceNumber.replace(/^0+(?=\d)/, '') : '0').padStart(
    SEQUENCE_DIGITS,
    '0',
  );
  return `${t}.${s}`;
}

/** A version as the mirror compares it: a number (a user's version attribute) or a string. */
export type VersionValue = number | string;

/**
 * Orders two versions as DynamoDB's `<` does in a condition: numbers numerically, strings by
 * code point. Versions of different types do not compare (DynamoDB's `<` is false both ways):
 * the result is `undefined`.
 *
 * @example
 * ```ts
 * compareVersions(2, 10);       // negative
 * compareVersions('b', 'a');    // positive
 * compareVersions(1, '1');      // undefined
 * ```
 */
export function compareVersions(a: VersionValue, b: VersionValue): number | undefined {
  if (typeof a !== typeof b) return undefined;
  if (typeof a === 'number') return a - (b as number);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Whether a change at version `incoming` (a delete when `isDelete`) should replace what the mirror
 * holds — the same rule the conditional write enforces: nothing held, or held without a version,
 * or an older version; at an equal version a delete replaces a live item (a user's version does
 * not change when the item is deleted) and nothing else does.
 *
 * @example
 * ```ts
 * supersedes({ version: 3, deleted: false }, 3, true);  // true: the delete of version 3
 * supersedes({ version: 3, deleted: true }, 3, false);  // false: an older put arriving late
 * ```
 */
export function supersedes(
  held: { readonly version?: VersionValue; readonly deleted: boolean } | undefined,
  incoming: VersionValue,
  isDelete: boolean,
): boolean {
  if (!held || held.version === undefined) return true;
  const c = compareVersions(held.version, incoming);
  if (c === undefined) return false;
  return c < 0 || (c === 0 && isDelete && !held.deleted);
}
