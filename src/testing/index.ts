export { dockerAvailable, startLocalStack, LOCALSTACK_IMAGE } from './localstack.js';
export { startEmulators, type Emulators, type EmulatorOptions, type Endpoints } from './emulators.js';
export { createTable, deleteTable, scanAll, createStream, waitStreamActive } from './tables.js';
export { createAppTables, type CreateAppTablesOptions } from './app-tables.js';
export type { ResolvePackage } from './emulator-packages.js';
export { freePort } from './ports.js';
export { ManualClock } from './manual-clock.js';
export {
  memorySource,
  type MemoryDecode,
  type MemoryRecord,
  type MemoryShard,
  type MemorySource,
  type MemorySourceOptions,
} from './memory-source.js';
export {
  startThrottleProxy,
  type ThrottleProxy,
  type ThrottleProxyOptions,
  type ThrottleStats,
  type TableBudget,
  type BudgetSource,
  type Throughput,
  type IndexStats,
} from './throttle-proxy/index.js';
export { TestDriver, type TestDriverOptions, type DriverCheckpoint } from './driver/test-driver.js';
export type { CrashPoint } from './driver/app-starts.js';
export { DriverTable, DriverStream, type ItemUpdate, type PutResult } from './driver/handles.js';
export { Faults, type FaultKind, type FaultSpan } from './driver/faults.js';
export { waitCaughtUp, type CaughtUpOptions } from './caught-up.js';
