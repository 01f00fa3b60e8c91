import type { Sink } from './sink.js';
import type { TableSpec } from './tables.js';

/**
 * A sink that owns derived tables and keeps them correct as the source changes. Besides writing,
 * a view declares its tables so the CLI can plan, create and drop them.
 */
export interface View<O> extends Sink<O> {
  /** Tables this view writes. `now` picks the current periods of tables that rotate. */
  tables(now?: Date): readonly TableSpec[];
}

/** True when a sink declares tables (is a view). */
export function isView<O>(s: Sink<O>): s is View<O> {
  return typeof (s as Partial<View<O>>).tables === 'function';
}
