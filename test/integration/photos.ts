import { BatchWriteItemCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { type Photo } from '../fixtures/photo-views.js';
import { seededRandom } from '../helpers.js';

export { photoViews, type Photo } from '../fixtures/photo-views.js';

/**
 * Writes `changes` changes to a table of photos, 25 distinct items per BatchWriteItem: new
 * photos, photos moved to another album, likes changed, photos deleted. Resolves with the table
 * as it ends. `between` runs after each call (a pause, or a check), so writes can span a test.
 */
export async function photoTraffic(
  ddb: DynamoDBClient,
  table: string,
  opts: { seed: number; changes: number; live?: Map<string, Photo>; between?: () => Promise<void> },
): Promise<Map<string, Photo>> {
  const rand = seededRandom(opts.seed);
  const live = opts.live ?? new Map<string, Photo>();
  let done = 0;
  while (done < opts.changes) {
    const ids = new Set<string>();
    while (ids.size < 25) ids.add(`p${Math.floor(rand() * 300)}`);
    const reqs: WriteRequest[] = [];
    for (const id of ids) {
      const held = live.get(id);
      const roll = rand();
      if (held && roll < 0.2) {
        live.delete(id);
        reqs.push({ DeleteRequest: { Key: marshall({ id }) } });
      } else {
        const album = held && roll < 0.6 ? held.album : `a${Math.floor(rand() * 12)}`;
        const p: Photo = { id, album, likes: Math.floor(rand() * 50), v: Math.floor(rand() * 1e9) };
        live.set(id, p);
        reqs.push({ PutRequest: { Item: marshall(p) } });
      }
    }
    await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: reqs } }));
    done += reqs.length;
    await opts.between?.();
  }
  return live;
}

/** What a counter of photos and likes per album must hold for a table of photos. */
export function albumTotals(live: ReadonlyMap<string, Photo>): Map<string, { photos: number; likes: number }> {
  const perAlbum = new Map<string, { photos: number; likes: number }>();
  for (const p of live.values()) {
    const a = perAlbum.get(p.album) ?? { photos: 0, likes: 0 };
    perAlbum.set(p.album, { photos: a.photos + 1, likes: a.likes + p.likes });
  }
  return perAlbum;
}

/** A counter table's rows as totals per album, counters at zero left out (a missing counter reads as zero). */
export function albumRows(
  rows: readonly { album: string; photos: number; likes: number }[],
): Map<string, { photos: number; likes: number }> {
  return new Map(
    rows.filter((r) => r.photos !== 0 || r.likes !== 0).map((r) => [r.album, { photos: r.photos, likes: r.likes }]),
  );
}

/** Puts `count` photos (`${prefix}0`, ...) into a table, 25 a call and 8 calls at once, spread over 12 albums; adds them to `live`. */
export async function prefillPhotos(
  ddb: DynamoDBClient,
  table: string,
  count: number,
  live: Map<string, Photo>,
  prefix = 'p',
): Promise<void> {
  const calls: Photo[][] = [];
  for (let i = 0; i < count; i += 25)
    calls.push(
      Array.from({ length: Math.min(25, count - i) }, (_, j): Photo => {
        const n = i + j;
        return { id: `${prefix}${n}`, album: `a${n % 12}`, likes: n % 7, v: 0 };
      }),
    );
  for (const items of calls) for (const p of items) live.set(p.id, p);
  for (let c = 0; c < calls.length; c += 8)
    await Promise.all(
      calls.slice(c, c + 8).map((items) =>
        ddb.send(
          new BatchWriteItemCommand({
            RequestItems: { [table]: items.map((p) => ({ PutRequest: { Item: marshall(p) } })) },
          }),
        ),
      ),
    );
}
