import { describe, expect, inject, it } from 'vitest';
import { destroyClients } from '../../src/runtime/clients.js';
import { toolkit } from '../../src/runtime/toolkit.js';
import { silentLogger } from '../../src/observe/log.js';
import { atom, jsonTextCodec } from '../../src/toolkit/atom.js';
import { createTable, scanAll } from '../../src/testing/tables.js';
import { runJsonChild } from '../../bench/lib/child.js';
import { testClients, unique } from '../helpers.js';

const SWAPPERS = 8;
const EACH = 125;

describe('atom', () => {
  it(`8 processes swapping one atom ${SWAPPERS * EACH} times in all end at exactly ${SWAPPERS * EACH}, the lost races retried`, async () => {
    const clients = testClients();
    const table = unique('atoms');
    try {
      await createTable(clients.dynamodb, { name: table, partitionKey: { name: 'id', type: 'S' } });
      const e = inject('endpoints');
      const startAt = String(Date.now() + 4_000);
      const stats = await Promise.all(
        Array.from({ length: SWAPPERS }, (_, i) =>
          runJsonChild<{ swaps: number; retries: number }>(
            new URL('../fixtures/atom-swapper.ts', import.meta.url),
            {
              TRIBUTARY_DYNAMODB_ENDPOINT: e.dynamodb,
              TRIBUTARY_KINESIS_ENDPOINT: e.kinesis,
              ATOM_TABLE: table,
              ATOM_INCREMENTS: String(EACH),
              ATOM_START_AT: startAt,
            },
            `swapper ${i}`,
          ),
        ),
      );
      expect(stats.reduce((a, s) => a + s.swaps, 0)).toBe(SWAPPERS * EACH);
      const tk = toolkit(clients, { log: silentLogger });
      expect(await atom<{ n: number }>(tk, table, { id: 'shared' }).deref()).toEqual({ n: SWAPPERS * EACH });
      tk.stop();
      const [item] = await scanAll<{ version: number }>(clients.dynamodb, table);
      // One version per write, and no write without its swap.
      expect(item!.version).toBe(SWAPPERS * EACH);
      const retries = stats.reduce((a, s) => a + s.retries, 0);
      console.log(`atom contention: ${SWAPPERS} processes, ${SWAPPERS * EACH} swaps, ${retries} retries`);
      expect(retries).toBeGreaterThan(0);
    } finally {
      destroyClients(clients);
    }
  });

  it('reads, resets and swaps a value of any shape; binary and JSON text round-trip; absent before the first write', async () => {
    const clients = testClients();
    const table = unique('atoms');
    const tk = toolkit(clients, { log: silentLogger });
    try {
      await createTable(clients.dynamodb, { name: table, partitionKey: { name: 'id', type: 'S' } });
      const cfg = atom<{ flags: string[]; limit: number; blob?: Uint8Array }>(tk, table, { id: 'config' });
      expect(await cfg.deref()).toBeUndefined();
      await cfg.reset({ flags: ['a'], limit: 3, blob: new Uint8Array([1, 2, 3]) });
      const next = await cfg.swap((c) => ({ ...c!, flags: [...c!.flags, 'b'], limit: c!.limit * 2 }));
      expect(next.limit).toBe(6);
      const read = await cfg.deref();
      expect(read?.flags).toEqual(['a', 'b']);
      expect(Buffer.from(read!.blob!)).toEqual(Buffer.from([1, 2, 3]));
      // Stored readably: a map, not an opaque string.
      const [row] = await scanAll<{ value: { limit: number }; version: number }>(clients.dynamodb, table);
      expect(row!.value.limit).toBe(6);
      expect(row!.version).toBe(2);

      const sparse = atom<(number | null)[]>(tk, table, { id: 'sparse' }, { codec: jsonTextCodec() });
      await sparse.reset([1, null, 3]);
      expect(await sparse.deref()).toEqual([1, null, 3]);
    } finally {
      tk.stop();
      destroyClients(clients);
    }
  });
});
