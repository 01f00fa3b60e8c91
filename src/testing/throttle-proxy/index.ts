export { startThrottleProxy } from './proxy.js';
export type {
  BudgetSource,
  IndexStats,
  TableBudget,
  Throughput,
  ThrottleProxy,
  ThrottleProxyOptions,
  ThrottleStats,
} from './options.js';
