/**
 * Event-time windows and mergeable aggregations for taps: the public surface of this folder, a
 * deliberate list. `src/index.ts` picks from it.
 */
export { tumblingWindows, hoppingWindows, sessionWindows, windowsOf } from './assigners.js';
export type { TumblingWindows, HoppingWindows, SessionWindows, FixedWindows, WindowAssigner } from './assigners.js';
export { windowId, type Window } from './window.js';
export { Watermarks, type WatermarkOptions, type ShardFrontier, type ShardStatus } from './watermarks.js';
export {
  aggregateOf,
  type Aggregation,
  type AggregateSpec,
  type AggregateResult,
  type ResultOf,
  type Json,
} from './aggregation.js';
export { count, sum, min, max, avg, type AvgState } from './exact-aggregations.js';
export { distinct, type DistinctOptions } from './distinct.js';
export { topK, FrequentItems, type TopKItem, type TopKOptions } from './top-k.js';
export { percentiles, type PercentilesOptions, type PercentileValues } from './percentiles.js';
export { HyperLogLog } from './hyperloglog.js';
export {
  WindowedAggregation,
  type WindowedAggregationOptions,
  type AddResult,
  type MergeResult,
} from './windowed-aggregation.js';
export type { WindowEvent, UpdateEvent, FinalEvent, LateEvent, WindowSnapshot, WindowProgress } from './events.js';
export { checkPartial, type TapPartial, type PartialCell, type PartialShard } from './partials.js';
