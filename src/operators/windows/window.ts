/**
 * A window of event time, `[start, end)` in epoch milliseconds: it holds the records whose event
 * time `t` has `start <= t < end`.
 */
export interface Window {
  readonly start: number;
  readonly end: number;
}

/**
 * A window's stable id, `'<start>-<end>'` in epoch ms: the same window always has the same id,
 * in every process, so it can key a table item or an SSE stream.
 *
 * @example
 * ```ts
 * windowId({ start: 60_000, end: 120_000 }); // '60000-120000'
 * ```
 */
export function windowId(w: Window): string {
  return `${w.start}-${w.end}`;
}
