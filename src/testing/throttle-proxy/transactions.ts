import { capacityByTable, withIndexes } from './consumed.js';
import { transactGetEntry, transactWriteEntry } from './estimate.js';
import { answer, parseJson, type Exchange } from './exchange.js';
import { cancellationFor, relay, transactionCanceled } from './replies.js';
import type { Block, Kind, Reservation, TableMeter } from './table-meter.js';
import { tableNameOf, type TransactGetItem, type TransactWriteItem } from './wire.js';

/** TransactWriteItems: every table it writes must have budget left. */
export const transactWrite = (x: Exchange): Promise<void> =>
  transaction(x, 'write', (t) => transactWriteEntry(t as TransactWriteItem));

/** TransactGetItems: every table it reads must have budget left. */
export const transactGet = (x: Exchange): Promise<void> =>
  transaction(x, 'read', (t) => transactGetEntry(t as TransactGetItem));

/**
 * A transaction is all or nothing: when any table it touches (or one of that table's GSIs, for
 * writes) has spent its budget, the proxy answers TransactionCanceledException without
 * forwarding, with `ProvisionedThroughputExceeded` for each item on such a table and
 * `{ Code: 'None' }` for the others, as DynamoDB does. Otherwise each item reserves twice its
 * estimate (transactions cost double), settled to what DynamoDB Local reports.
 */
async function transaction(
  x: Exchange,
  kind: Kind,
  entryOf: (t: unknown) => { table: string; units: number } | undefined,
): Promise<void> {
  const items = x.body.TransactItems;
  const entries = Array.isArray(items) ? items.map(entryOf) : [];
  if (entries.length === 0 || entries.some((e) => e === undefined)) return x.upstream.pipe(x.req, x.res, x.raw);
  const tables = new Map<string, { meter: TableMeter; block?: Block; items: number; reserved: Reservation[] }>();
  const unmetered = new Set<string>();
  for (const e of entries as { table: string; units: number }[]) {
    const name = tableNameOf(e.table);
    const known = tables.get(name);
    if (known) known.items++;
    else if (!unmetered.has(name)) {
      const meter = await x.meter(name);
      if (meter) tables.set(name, { meter, items: 1, reserved: [] });
      else unmetered.add(name);
    }
  }
  if (tables.size === 0) return x.upstream.pipe(x.req, x.res, x.raw);

  for (const t of tables.values()) {
    t.meter.countRequest();
    t.block = t.meter.blocked(kind);
  }
  if ([...tables.values()].some((t) => t.block)) {
    for (const t of tables.values()) t.meter.countThrottled(t.block, t.items);
    return transactionCanceled(
      x.res,
      entries.map((e) => cancellationFor(tables.get(tableNameOf(e!.table))?.block)),
    );
  }

  for (const e of entries as { table: string; units: number }[]) {
    const t = tables.get(tableNameOf(e.table));
    t?.reserved.push(t.meter.reserve(kind, e.units));
  }
  const refund = () => tables.forEach((t) => t.reserved.forEach((r) => t.meter.refund(r)));
  const up = await x.upstream.send(x.req, withIndexes(x.body)).catch((e: unknown) => {
    refund();
    throw e;
  });
  const json = up.status === 200 ? parseJson(up.body) : undefined;
  if (!json) {
    // Cancelled by DynamoDB Local itself (a condition, a conflict) or invalid: nothing is charged.
    refund();
    return relay(x.res, up);
  }
  const consumed = capacityByTable(json);
  for (const t of tables.values()) {
    // DynamoDB Local under-reports transactions whose items cost the same (it seems to count
    // identical per-item charges once: two 1 KB puts report 2 units, not 4), so the estimate,
    // exact for puts and a minimum otherwise, is a floor.
    t.meter.settle(t.reserved, consumed.get(t.meter.table), true);
    t.meter.countOutcome(t.items, 0);
  }
  answer(x, up, json, false);
}
