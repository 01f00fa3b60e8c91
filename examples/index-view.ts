// Shared photo albums: memberships live in `albums_members` (keyed album + user), and an index
// view keeps `albums_by_user` (keyed user + album) equal to it, so "my albums" is one query.
// Run it locally with `tributary dev examples/index-view.ts`.
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { setTimeout as delay } from 'node:timers/promises';
import { app, dynamodbTable, indexView, pipeline, queryView, type Clients, type TableSpec } from '../src/index.js';
import { scanAll } from '../src/testing/index.js';

// ---- Source and view --------------------------------------------------------------------

type Membership = { albumId: string; userId: string; role: 'owner' | 'editor' | 'viewer'; lastSeen: number };

const members: TableSpec = {
  name: 'albums_members',
  partitionKey: { name: 'albumId', type: 'S' },
  sortKey: { name: 'userId', type: 'S' },
  stream: 'NEW_AND_OLD_IMAGES',
};

/** The inverted index: a user's albums with their role. `lastSeen` is not projected, so touching it writes nothing. */
const albumsByUser = indexView({
  table: 'albums_by_user',
  partitionKey: { name: 'userId', type: 'S' },
  sortKey: { name: 'albumId', type: 'S' },
  key: (m: Membership) => ({ userId: m.userId, albumId: m.albumId }),
  project: ['role'],
  base: { table: 'albums_members', key: ['albumId', 'userId'] },
});

const byUser = pipeline('albums-by-user').from(dynamodbTable<Membership>('albums_members')).to(albumsByUser);

// ---- Dev loop: generated traffic and a report ---------------------------------------------

type DevContext = { clients: Clients; tableName: (logical: string) => string };

const ROLES = ['owner', 'editor', 'viewer'] as const;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

/** Every ~60 ms: add a member, change a role, touch `lastSeen` (a no-op for the view) or remove a member. */
async function traffic({ clients, tableName, signal }: DevContext & { signal: AbortSignal }): Promise<void> {
  const table = tableName('albums_members');
  const live = new Map<string, Membership>();
  const save = (m: Membership) => clients.dynamodb.send(new PutItemCommand({ TableName: table, Item: marshall(m) }));
  while (!signal.aborted) {
    const existing = live.size > 0 ? pick([...live.values()]) : undefined;
    const roll = Math.random();
    if (!existing || roll < 0.45) {
      const m: Membership = {
        albumId: `a${Math.floor(Math.random() * 7)}`,
        userId: `u${Math.floor(Math.random() * 12)}`,
        role: pick(ROLES),
        lastSeen: Date.now(),
      };
      live.set(`${m.albumId}|${m.userId}`, m);
      await save(m);
    } else if (roll < 0.65) {
      const m = { ...existing, role: pick(ROLES) };
      live.set(`${m.albumId}|${m.userId}`, m);
      await save(m);
    } else if (roll < 0.85) {
      const m = { ...existing, lastSeen: Date.now() };
      live.set(`${m.albumId}|${m.userId}`, m);
      await save(m);
    } else {
      live.delete(`${existing.albumId}|${existing.userId}`);
      await clients.dynamodb.send(
        new DeleteItemCommand({
          TableName: table,
          Key: marshall({ albumId: existing.albumId, userId: existing.userId }),
        }),
      );
    }
    await delay(60, undefined, { signal }).catch(() => undefined);
  }
}

/** Row counts, whether the index holds exactly the rows the source implies, one user's albums (view + base items), dead letters. */
async function report({ clients, tableName }: DevContext): Promise<string> {
  const [source, index, letters] = await Promise.all([
    scanAll(clients.dynamodb, tableName('albums_members')),
    scanAll(clients.dynamodb, tableName('albums_by_user')),
    scanAll(clients.dynamodb, tableName(albums.deadLetters.tableName)),
  ]);
  const expected = new Set<string>();
  for (const m of source as Membership[]) {
    expected.add(JSON.stringify(albumsByUser.rowOf(m), ['userId', 'albumId', 'role']));
  }
  const actual = new Set(index.map((r) => JSON.stringify(r, ['userId', 'albumId', 'role'])));
  const missing = [...expected].filter((r) => !actual.has(r)).length;
  const extra = [...actual].filter((r) => !expected.has(r)).length;
  const u1 = await queryView(albumsByUser, clients, { partition: 'u1', limit: 4, base: true, tableName });
  const reasons = new Map<string, number>();
  for (const l of letters) reasons.set(String(l.code), (reasons.get(String(l.code)) ?? 0) + 1);
  return [
    `rows: albums_members ${source.length}, albums_by_user ${index.length}`,
    `index matches source: ${missing === 0 && extra === 0 ? 'yes' : `no (${missing} missing, ${extra} extra)`}`,
    `view writes: ${albumsByUser.stats.puts} puts, ${albumsByUser.stats.deletes} deletes; ${albumsByUser.stats.unchanged} modifies left the view unchanged (no write)`,
    `u1's albums (view + base items): ${u1.items.length === 0 ? 'none yet' : u1.items.map((r, i) => `${r.albumId} ${r.role} (last seen ${u1.base[i] ? new Date(u1.base[i].lastSeen).toISOString().slice(11, 19) : 'gone'})`).join(', ')}${u1.lastEvaluatedKey ? ', ...' : ''}`,
    `dead letters: ${letters.length}${reasons.size ? ` (${[...reasons].map(([code, n]) => `${code} ${n}`).join(', ')})` : ''}`,
  ].join('\n');
}

const albums = app('albums', [byUser], { tables: [members], dev: { traffic, report } });

export default albums;
