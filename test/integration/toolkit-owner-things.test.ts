import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observe/log.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { toolkit } from '../../src/runtime/toolkit.js';
import { createTable, scanAll } from '../../src/testing/tables.js';
import { ownerThings } from '../../src/toolkit/owner-things.js';
import { testClients, unique } from '../helpers.js';

describe('ownerThings', () => {
  it("keeps an owner's things and their subthings in one table: lists each level by page, deletes a thing with its subthings only", async () => {
    const clients = testClients();
    const tk = toolkit(clients, { log: silentLogger });
    const albums = ownerThings<{ title: string }, { url: string }>({
      table: unique('albums'),
      owner: 'user',
      thing: 'album',
      subthing: 'photo',
    });
    try {
      await createTable(clients.dynamodb, albums.tables()[0]!);
      for (const a of ['a1', 'a10', 'a2']) await albums.putThing(tk, 'u1', a, { title: `album ${a}` });
      await albums.putThing(tk, 'u2', 'a1', { title: "another user's a1" });
      for (let p = 1; p <= 5; p++) await albums.putSubthing(tk, 'u1', 'a1', `p${p}`, { url: `s3://a1/p${p}` });
      for (let p = 1; p <= 2; p++) await albums.putSubthing(tk, 'u1', 'a10', `p${p}`, { url: `s3://a10/p${p}` });

      // Things only, in id order, by pages of two.
      const first = await albums.listThings(tk, 'u1', { limit: 2 });
      expect(first.items.map((t) => t.id)).toEqual(['a1', 'a10']);
      expect(first.cursor).toBeDefined();
      const second = await albums.listThings(tk, 'u1', { limit: 2, cursor: first.cursor });
      expect(second.items).toEqual([{ id: 'a2', title: 'album a2' }]);
      expect(second.cursor).toBeUndefined();

      const photos = await albums.listSubthings(tk, 'u1', 'a1', { limit: 3 });
      expect(photos.items.map((p) => p.id)).toEqual(['p1', 'p2', 'p3']);
      const rest = await albums.listSubthings(tk, 'u1', 'a1', { cursor: photos.cursor });
      expect(rest.items).toEqual([
        { id: 'p4', url: 's3://a1/p4' },
        { id: 'p5', url: 's3://a1/p5' },
      ]);
      expect(await albums.getSubthing(tk, 'u1', 'a10', 'p2')).toEqual({ id: 'p2', url: 's3://a10/p2' });

      // a1 goes with its five photos; a10 (whose key begins with a1) and u2's a1 stay.
      await albums.deleteThing(tk, 'u1', 'a1');
      expect(await albums.getThing(tk, 'u1', 'a1')).toBeUndefined();
      expect((await albums.listSubthings(tk, 'u1', 'a1')).items).toEqual([]);
      expect((await albums.listSubthings(tk, 'u1', 'a10')).items.length).toBe(2);
      expect(await albums.getThing(tk, 'u2', 'a1')).toEqual({ id: 'a1', title: "another user's a1" });
      const rows = await scanAll<{ pk: string; sk: string }>(clients.dynamodb, albums.tables()[0]!.name);
      expect(rows.map((r) => `${r.pk} ${r.sk}`).sort()).toEqual([
        'u1 album#a10',
        'u1 album#a10#photo#p1',
        'u1 album#a10#photo#p2',
        'u1 album#a2',
        'u2 album#a1',
      ]);

      await expect(albums.putThing(tk, 'u1', 'a#b', { title: 'x' })).rejects.toMatchObject({ code: 'config.invalid' });
    } finally {
      tk.stop();
      destroyClients(clients);
    }
  });
});
