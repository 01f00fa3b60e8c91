import { encodeMark } from '../../core/applied-marks.js';
import type { SourceRecord } from '../../core/records.js';
import type { ShardProgress } from './progress.js';

/**
 * The records of a batch an exactly-once pipeline still has to apply, in ranges that no commit
 * of an earlier owner straddles: records up to `applied` are dropped (every item holds them, or
 * they are in the dead letters), and the rest is cut after each of the earlier commits' ends, so
 * that an item holding one of those commits holds either all of a range or none of it.
 *
 * @example
 * ```ts
 * rangesToApply(batch.records, { applied: encodeMark(r3.position), cuts: [encodeMark(r7.position)] }); // [[r4..r7], [r8..]]
 * ```
 */
export function rangesToApply<R extends SourceRecord>(
  records: readonly R[],
  progress: ShardProgress | undefined,
): { readonly ranges: readonly (readonly R[])[]; readonly skipped: number } {
  if (records.length === 0 || !progress) return { ranges: records.length ? [records] : [], skipped: 0 };
  const lastMark = encodeMark(records[records.length - 1]!.position);
  const { applied } = progress;
  if (applied !== undefined && lastMark <= applied) return { ranges: [], skipped: records.length };
  let fresh: readonly R[] = records;
  if (applied !== undefined && encodeMark(records[0]!.position) <= applied)
    fresh = records.filter((r) => encodeMark(r.position) > applied);
  const firstMark = encodeMark(fresh[0]!.position);
  const cuts = progress.cuts.filter((c) => c >= firstMark && c < lastMark);
  if (cuts.length === 0) return { ranges: [fresh], skipped: records.length - fresh.length };
  const ranges: R[][] = [];
  let current: R[] = [];
  let ci = 0;
  for (const r of fresh) {
    const m = encodeMark(r.position);
    // Close the range at each cut the record is past.
    while (ci < cuts.length && m > cuts[ci]!) {
      if (current.length) ranges.push(current);
      current = [];
      ci++;
    }
    current.push(r);
  }
  if (current.length) ranges.push(current);
  return { ranges, skipped: records.length - fresh.length };
}
