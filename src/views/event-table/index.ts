export { eventTable, type EventTableView, type EventLocation } from './view.js';
export { replay, REPLAY_SHARD, type ReplayedEvent, type ReplayOptions, type ReplayRange } from './replay.js';
export { readEvents } from './read-events.js';
export { rotationPlan, type RotationPlan } from './rotation-plan.js';
export { maintainRotation, type MaintainOptions, type MaintainResult } from './maintain.js';
export type { EventTableOptions, EventTableLayout, RotationOptions } from './options.js';
