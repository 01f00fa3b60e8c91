import { invalidState, jsonNumber, jsonObject, type Json } from './aggregation.js';
import type { WindowAssigner } from './assigners.js';

/** One shard's frontier in a {@link TapPartial}. */
export interface PartialShard {
  readonly shardId: string;
  /** The latest event time seen on the shard; `null` before its first record. */
  readonly maxEventTime: number | null;
  readonly ended: boolean;
}

/** One open window and key in a {@link TapPartial}: the aggregation state of each shard, as JSON. */
export interface PartialCell {
  readonly start: number;
  readonly end: number;
  readonly key: string;
  readonly states: { readonly [shardId: string]: Json };
}

/**
 * The open windows of a windowed aggregation, or of some of its shards, as plain JSON: what one
 * worker writes for others to merge (`mergePartials`). Partials made over disjoint sets of shards
 * merge into the state of all their records.
 */
export interface TapPartial {
  readonly version: 1;
  /** The window assigner and what each aggregation must share to merge (`Aggregation.describe`). */
  readonly definition: { readonly window: WindowAssigner; readonly aggregate: Json };
  readonly shards: readonly PartialShard[];
  readonly cells: readonly PartialCell[];
}

/**
 * Checks that `value` (e.g. parsed from a table) is a partial of the given definition, and
 * returns it typed; throws `window.invalidState` naming what does not fit.
 *
 * @example
 * ```ts
 * const partial = checkPartial(JSON.parse(item.state), engine.definition);
 * ```
 */
export function checkPartial(value: unknown, definition: TapPartial['definition']): TapPartial {
  const o = jsonObject(value as Json, 'partial');
  if (o.version !== 1) throw invalidState(`partial: unknown version ${JSON.stringify(o.version)}`);
  const def = jsonObject(o.definition ?? null, 'partial definition');
  if (canonical(def.window) !== canonical(definition.window as unknown as Json))
    throw invalidState('partial: made by another window definition', {
      expected: definition.window,
      found: def.window,
    });
  if (canonical(def.aggregate) !== canonical(definition.aggregate))
    throw invalidState('partial: made by another aggregate definition', {
      expected: definition.aggregate,
      found: def.aggregate,
    });
  if (!Array.isArray(o.shards) || !Array.isArray(o.cells)) throw invalidState('partial: no shards or cells');
  for (const s of o.shards as readonly Json[]) {
    const shard = jsonObject(s, 'partial shard');
    if (typeof shard.shardId !== 'string' || typeof shard.ended !== 'boolean')
      throw invalidState('partial: a shard has no shardId or ended');
    if (shard.maxEventTime !== null) jsonNumber(shard.maxEventTime, 'partial shard');
  }
  for (const c of o.cells as readonly Json[]) {
    const cell = jsonObject(c, 'partial cell');
    const start = jsonNumber(cell.start, 'partial cell');
    const end = jsonNumber(cell.end, 'partial cell');
    if (!(end > start) || typeof cell.key !== 'string') throw invalidState('partial: a cell has no window or key');
    if (!fitsWindows(definition.window, start, end))
      throw invalidState(`partial: the window ${start}-${end} is not one of this definition's`);
    jsonObject(cell.states ?? null, 'partial cell states');
  }
  return value as TapPartial;
}

/** Whether `[start, end)` is a window the assigner makes (any span for sessions longer than the gap). */
function fitsWindows(w: WindowAssigner, start: number, end: number): boolean {
  if (w.kind === 'session') return end - start >= w.gapMs;
  const hop = w.kind === 'hopping' ? w.hopMs : w.sizeMs;
  return end - start === w.sizeMs && ((start % hop) + hop) % hop === 0;
}

/** JSON with object keys sorted, so that equal definitions compare equal whatever their key order. */
function canonical(v: Json | undefined): string {
  if (v === null || v === undefined || typeof v !== 'object') return JSON.stringify(v ?? null);
  if (Array.isArray(v)) return `[${(v as readonly Json[]).map(canonical).join(',')}]`;
  const o = v as { readonly [key: string]: Json };
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}
