export { TableManager, type TableInfo } from './manager.js';
export { tablePrefix, type TablePrefix } from './naming.js';
export { planTable, type TableAction } from './plan.js';
