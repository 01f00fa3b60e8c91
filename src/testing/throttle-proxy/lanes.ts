import type { Block, Kind, Reservation, TableMeter } from './table-meter.js';

/** One table's share of a batch: what goes on, what is held back, and why. */
export interface Lane<T> {
  /** The table as the request names it (a name or an ARN). */
  readonly key: string;
  readonly meter: TableMeter | undefined;
  readonly send: T[];
  readonly held: T[];
  readonly reserved: Reservation[];
  block?: Block;
}

export const lane = <T>(key: string, meter: TableMeter | undefined): Lane<T> => ({
  key,
  meter,
  send: [],
  held: [],
  reserved: [],
});

/**
 * Splits a table's entries in order: an entry goes on while the table's budget is above zero
 * (its estimate reserved at once, so the next entry sees it); from the first entry that cannot,
 * the rest of the table's entries are held back. Entries of unmetered tables all go on.
 */
export function split<T>(l: Lane<T>, entries: readonly T[], kind: Kind, units: (e: T) => number): void {
  for (const e of entries) {
    if (l.meter && l.held.length === 0) l.block = l.meter.blocked(kind);
    if (l.meter && l.block) {
      l.held.push(e);
      continue;
    }
    if (l.meter) l.reserved.push(l.meter.reserve(kind, units(e)));
    l.send.push(e);
  }
}

/** Gives back every reservation of the batch: it was not carried out. */
export function refundAll<T>(lanes: readonly Lane<T>[]): void {
  for (const l of lanes) for (const r of l.reserved) l.meter?.refund(r);
}

/** The lane whose spent budget refuses the whole batch (the first blocked one). */
export function blockedLane<T>(lanes: readonly Lane<T>[]): { meter: TableMeter; block: Block } {
  const l = lanes.find((x) => x.meter && x.block)!;
  return { meter: l.meter!, block: l.block! };
}
