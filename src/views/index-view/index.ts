export { indexView } from './view.js';
export {
  queryView,
  fetchBase,
  type QueryViewOptions,
  type SortCondition,
  type ViewPage,
  type ViewPageWithBase,
} from './query.js';
export type {
  IndexView,
  IndexViewOptions,
  IndexViewProjectFnOptions,
  IndexViewCommonOptions,
  IndexViewStats,
  ViewKeyAttr,
} from './options.js';
export type { ReadTarget } from './read-target.js';
