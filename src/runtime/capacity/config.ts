export type { CapacityConfig } from '../../core/runtime-settings.js';

export const DYNAMODB_BURST_SECONDS = 300;
