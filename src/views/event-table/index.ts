export { eventTable, type EventTableView, type EventLocation } from './view.js';
export { replay, REPLAY_SHARD, type ReplayedEvent, type ReplayOptions, type ReplayRange } from './replay.js';
export { readEvents } from './read-events.js';
export { rotationPlan, type RotationPlan, type LayoutSource } from './rotation-plan.js';
export { maintainRotation, type MaintainOptions, type MaintainResult } from './maintain.js';
export type { EventTableOptions, EventTableLayout, RotationOptions } from './options.js';
export type { BucketSize } from './bucket.js';
export { canonicalJson, defaultEventId } from './event-id.js';
export { mergePaged, type Page, type PageFetcher } from './merge.js';
