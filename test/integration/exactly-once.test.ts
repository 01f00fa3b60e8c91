import { DeleteItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { isMarkAttribute, withoutMarks } from '../../src/core/applied-marks.js';
import {
  app,
  dynamodbTable,
  eventTable,
  pipeline,
  put,
  tableWriter,
  type DynamoChange,
  type PipelineDef,
} from '../../src/index.js';
import { destroyClients } from '../../src/runtime/clients.js';
import { PROGRESS_KIND } from '../../src/runtime/leases/lease.js';
import { Runner } from '../../src/runtime/runner.js';
import { createTable, scanAll } from '../../src/testing/tables.js';
import { eventually, fastRunner, testClients, unique } from '../helpers.js';
import { albumRows, albumTotals, photoTraffic, photoViews, prefillPhotos, type Photo } from './photos.js';
import { map } from 'rxjs';

describe("guarantee: 'exactly-once'", () => {
  const clients = testClients();
  afterAll(() => destroyClients(clients));

  it('counter, index, table writer and event table views stay exact when every record is replayed, and a counter follows photos moved between albums', async () => {
    const src = unique('eo_photos');
    const albums = unique('eo_albums');
    const byAlbum = unique('eo_by_album');
    const copy = unique('eo_copy');
    const log = unique('eo_log');
    await createTable(clients.dynamodb, {
      name: src,
      partitionKey: { name: 'id', type: 'S' },
      stream: 'NEW_AND_OLD_IMAGES',
    });
    const { counts, index } = photoViews(albums, byAlbum);
    const events = eventTable<DynamoChange<Photo>, { id: string; kind: string }>({
      table: log,
      time: (c) => c.approximateCreationTime,
      id: (c) => c.eventId,
      payload: (c) => ({ id: String(c.keys.id), kind: c.kind }),
      bucket: '1h',
      writeShards: 2,
    });
    for (const v of [counts, index, events]) for (const t of v.tables()) await createTable(clients.dynamodb, t);
    await createTable(clients.dynamodb, { name: copy, partitionKey: { name: 'id', type: 'S' } });

    const photos = dynamodbTable<Photo>(src, { batchSize: 50 });
    const eo = { guarantee: 'exactly-once' } as const;
    const pipelines: PipelineDef[] = [
      pipeline('album-counts').from(photos).with(eo).to(counts),
      pipeline('by-album').from(photos).with(eo).to(index),
      pipeline('copy')
        .from(photos)
        .pipe(map((c: DynamoChange<Photo>) => put({ id: String(c.keys.id), kind: c.kind })))
        .with(eo)
        .to(tableWriter(copy)),
      pipeline('log').from(photos).with(eo).to(events),
    ] as PipelineDef[];
    const name = unique('eo');
    const def = app(name, pipelines);

    const live = await photoTraffic(clients.dynamodb, src, { seed: 11, changes: 1_500 });
    const changes = 1_500;
    const run = async () => {
      const runner = new Runner(def, { ...fastRunner, clients });
      await runner.start();
      await eventually(
        async () => (await runner.metrics.sum('tributary_records_applied_total')) >= 4 * changes,
        90_000,
        'every change applied by every pipeline',
      ).catch(async (e: unknown) => {
        throw new Error(
          `${String(e)}: ${await runner.metrics.sum('tributary_records_applied_total')} applied, ${await runner.metrics.sum('tributary_dead_letters_total')} dead letters`,
        );
      });
      const { error } = await runner.stop();
      expect(error).toBeUndefined();
    };
    await run();

    const check = async () => {
      const rows = await scanAll<{ album: string; photos: number; likes: number }>(clients.dynamodb, albums);
      expect(albumRows(rows)).toEqual(albumTotals(live));
      const idx = (await scanAll<Record<string, unknown>>(clients.dynamodb, byAlbum)).map((r) => withoutMarks(r));
      expect(new Set(idx.map((r) => `${String(r.album)}/${String(r.id)}/${String(r.likes)}`))).toEqual(
        new Set([...live.values()].map((p) => `${p.album}/${p.id}/${p.likes}`)),
      );
      const logged = await scanAll<{ id: string }>(clients.dynamodb, log);
      expect(logged.length).toBe(changes);
      return rows;
    };
    const first = await check();
    // Counter items carry this pipeline's applied marks, one per shard that wrote them.
    expect(first.some((r) => Object.keys(r).some(isMarkAttribute))).toBe(true);

    // Lose every checkpoint and every progress item: the next run reads each shard from its start
    // again, and only the marks on the items stand between the replay and a double count.
    const leases = `${name}_leases`;
    for (const item of await scanAll<{ leaseKey: string; kind?: string }>(clients.dynamodb, leases)) {
      if (item.kind === PROGRESS_KIND)
        await clients.dynamodb.send(
          new DeleteItemCommand({ TableName: leases, Key: marshall({ leaseKey: item.leaseKey }) }),
        );
      else
        await clients.dynamodb.send(
          new UpdateItemCommand({
            TableName: leases,
            Key: marshall({ leaseKey: item.leaseKey }),
            UpdateExpression: 'SET checkpoint = :t, checkpointSubSequenceNumber = :z',
            ExpressionAttributeValues: marshall({ ':t': 'TRIM_HORIZON', ':z': 0 }),
          }),
        );
    }
    await run();
    await check();
  });

  it('refuses to start a pipeline whose sink cannot commit exactly once, naming the sink', async () => {
    const src = unique('eo_refused');
    await createTable(clients.dynamodb, {
      name: src,
      partitionKey: { name: 'id', type: 'S' },
      stream: 'NEW_AND_OLD_IMAGES',
    });
    const def = app(unique('eo_refused'), [
      pipeline('to-somewhere')
        .from(dynamodbTable<Photo>(src))
        .with({ guarantee: 'exactly-once' })
        .to({ name: 'custom', write: async () => {} }),
    ] as PipelineDef[]);
    const runner = new Runner(def, { ...fastRunner, clients });
    await expect(runner.start()).rejects.toMatchObject({ code: 'sink.notExactlyOnce', details: { sinks: ['custom'] } });
    await runner.stop();
  });

  it('isolates records whose key function throws by retrying and bisecting, and counts every other record once: records in = applied + dead letters', async () => {
    const src = unique('eo_poison');
    const albums = unique('eo_poison_albums');
    await createTable(clients.dynamodb, {
      name: src,
      partitionKey: { name: 'id', type: 'S' },
      stream: 'NEW_AND_OLD_IMAGES',
    });
    const { counts } = photoViews(albums, unique('eo_unused'));
    await createTable(clients.dynamodb, counts.tables()[0]!);
    const live = new Map<string, Photo>();
    await prefillPhotos(clients.dynamodb, src, 1_000, live);
    // Photos of album a3 make the pipeline's own operator throw: they go to the dead letters.
    const def = app(unique('eo_poison'), [
      pipeline('album-counts')
        .from(dynamodbTable<Photo>(src, { batchSize: 100 }))
        .pipe(
          map((c: DynamoChange<Photo>) => {
            if (c.newImage?.album === 'a3') throw new Error('album a3 is refused');
            return c;
          }),
        )
        .with({ guarantee: 'exactly-once' })
        .to(counts),
    ] as PipelineDef[]);
    const runner = new Runner(def, { ...fastRunner, clients });
    await runner.start();
    await eventually(
      async () =>
        (await runner.metrics.sum('tributary_records_applied_total')) +
          (await runner.metrics.sum('tributary_dead_letters_total')) ===
        1_000,
      120_000,
      'every record applied or dead-lettered',
    );
    const { error } = await runner.stop();
    expect(error).toBeUndefined();
    const refused = [...live.values()].filter((p) => p.album === 'a3');
    expect(await runner.metrics.sum('tributary_dead_letters_total')).toBe(refused.length);
    for (const p of refused) live.delete(p.id);
    expect(albumRows(await scanAll(clients.dynamodb, albums))).toEqual(albumTotals(live));
  });
});
