import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import type { DynamoChange } from '../../src/core/records.js';
import { TributaryError } from '../../src/core/errors.js';
import { buildRow, planIndexChange, sameItem, type IndexDef, type IndexWrite } from '../../src/views/index-view/row.js';
import { indexView } from '../../src/views/index-view/view.js';

interface Membership {
  albumId: string;
  userId: unknown;
  role: string;
  seen?: number;
  blob?: string;
}

const def: IndexDef<Membership> = {
  name: 'user_albums',
  partitionKey: { name: 'userId', type: 'S' },
  sortKey: { name: 'albumId', type: 'S' },
  key: (m) => ({ userId: m.userId, albumId: m.albumId }),
  project: (m) => ({ role: m.role }),
  baseKey: [],
};

let seq = 0;
function change(kind: DynamoChange['kind'], oldImage?: Membership, newImage?: Membership): DynamoChange<Membership> {
  seq++;
  return {
    type: 'dynamodb',
    kind,
    keys: { albumId: (newImage ?? oldImage)!.albumId },
    oldImage,
    newImage,
    ttlExpired: false,
    approximateCreationTime: new Date(0),
    eventId: String(seq),
    position: { source: 's', shardId: 'sh', sequenceNumber: String(seq) },
    sizeBytes: 0,
  };
}

const show = (ws: IndexWrite[]) =>
  ws.map((w) => (w.type === 'put' ? ['put', unmarshall(w.item)] : ['delete', unmarshall(w.key)]));
const m = (userId: unknown, role = 'viewer', extra: Partial<Membership> = {}): Membership => ({
  albumId: 'a1',
  userId,
  role,
  ...extra,
});

describe('index view planning', () => {
  it('puts the row of an insert: key attributes plus projection, nothing else', () => {
    expect(show(planIndexChange(def, change('insert', undefined, m('u1', 'owner', { seen: 3 }))))).toEqual([
      ['put', { userId: 'u1', albumId: 'a1', role: 'owner' }],
    ]);
  });

  it('deletes the row of a remove', () => {
    expect(show(planIndexChange(def, change('remove', m('u1'))))).toEqual([
      ['delete', { userId: 'u1', albumId: 'a1' }],
    ]);
  });

  it('deletes the old row and puts the new one when a modify changes a key attribute', () => {
    expect(show(planIndexChange(def, change('modify', m('u1'), m('u2'))))).toEqual([
      ['delete', { userId: 'u1', albumId: 'a1' }],
      ['put', { userId: 'u2', albumId: 'a1', role: 'viewer' }],
    ]);
  });

  it('writes nothing for a modify that leaves key and projection unchanged', () => {
    expect(
      planIndexChange(def, change('modify', m('u1', 'viewer', { seen: 1 }), m('u1', 'viewer', { seen: 2 }))),
    ).toEqual([]);
  });

  it('puts the new row when only the projection changed', () => {
    expect(show(planIndexChange(def, change('modify', m('u1', 'viewer'), m('u1', 'owner'))))).toEqual([
      ['put', { userId: 'u1', albumId: 'a1', role: 'owner' }],
    ]);
  });

  it.each([
    ['missing', undefined, /key attribute 'userId' is missing/],
    ['an object', { id: 1 }, /key attribute 'userId' is an object/],
    ['an array', ['u1'], /key attribute 'userId' is an array/],
    ['a boolean', true, /key attribute 'userId' is a boolean/],
    ['an empty string', '', /key attribute 'userId' is an empty string/],
    ['a number where S is declared', 7, /key attribute 'userId' is a number but the view declares it as S/],
  ])('rejects a new image whose key attribute is %s with view.invalidKey naming it', (_what, userId, reason) => {
    let err: unknown;
    try {
      planIndexChange(def, change('insert', undefined, m(userId)));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TributaryError);
    expect((err as TributaryError).code).toBe('view.invalidKey');
    expect((err as TributaryError).retryable).toBe(false);
    expect((err as TributaryError).message).toMatch(reason);
    expect((err as TributaryError).details).toMatchObject({ view: 'user_albums', attribute: 'userId' });
  });

  it('treats an old image without a valid key as no row: fixing the item creates its row, removing it deletes nothing', () => {
    expect(show(planIndexChange(def, change('modify', m(undefined), m('u1'))))).toEqual([
      ['put', { userId: 'u1', albumId: 'a1', role: 'viewer' }],
    ]);
    expect(planIndexChange(def, change('remove', m({ bad: true })))).toEqual([]);
  });

  it('rejects a row over 400 KB with sink.itemTooLarge', () => {
    const big: IndexDef<Membership> = { ...def, project: (x) => ({ a: x.blob, b: x.blob }) };
    expect(() =>
      planIndexChange(big, change('insert', undefined, m('u1', 'viewer', { blob: 'x'.repeat(210_000) }))),
    ).toThrow(/400 KB/);
  });

  it('needs both images of a modify', () => {
    expect(() => planIndexChange(def, change('modify', undefined, m('u1')))).toThrow(
      expect.objectContaining({ code: 'view.missingImage' }),
    );
  });

  it('wraps a throwing key function as pipeline.userCode', () => {
    const throwing: IndexDef<Membership> = {
      ...def,
      key: () => {
        throw new Error('boom');
      },
    };
    expect(() => buildRow(throwing, m('u1'))).toThrow(
      expect.objectContaining({
        code: 'pipeline.userCode',
        message: expect.stringMatching(/key function threw: boom/),
      }),
    );
  });

  it('copies the base key attributes into rows', () => {
    expect(
      unmarshall(buildRow({ ...def, project: () => ({}), baseKey: ['albumId', 'role'] }, m('u1', 'owner')).item),
    ).toEqual({ userId: 'u1', albumId: 'a1', role: 'owner' });
  });

  it('sameItem ignores the order of map keys and set members, not values', () => {
    expect(
      sameItem(
        marshall({ a: 1, t: new Set(['x', 'y']), m: { p: 1, q: 2 } }),
        marshall({ m: { q: 2, p: 1 }, t: new Set(['y', 'x']), a: 1 }),
      ),
    ).toBe(true);
    expect(sameItem(marshall({ a: 1 }), marshall({ a: 2 }))).toBe(false);
    expect(sameItem(marshall({ a: 1 }), marshall({ a: 1, b: null }))).toBe(false);
    expect(sameItem({ n: { N: '1.50' } }, { n: { N: '1.5' } })).toBe(true);
  });

  it('indexView declares its table from the options and computes typed rows', () => {
    const view = indexView({
      table: 'user_albums',
      partitionKey: { name: 'userId', type: 'S' },
      sortKey: { name: 'albumId', type: 'S' },
      key: (x: { albumId: string; userId: string; role: string }) => ({ userId: x.userId, albumId: x.albumId }),
      project: ['role'],
      provisioned: { read: 5, write: 5 },
    });
    expect(view.tables()).toEqual([
      {
        name: 'user_albums',
        partitionKey: { name: 'userId', type: 'S' },
        sortKey: { name: 'albumId', type: 'S' },
        provisioned: { read: 5, write: 5 },
      },
    ]);
    const row = view.rowOf({ albumId: 'a', userId: 'u', role: 'r' });
    expect(row).toEqual({ userId: 'u', albumId: 'a', role: 'r' });
  });
});
