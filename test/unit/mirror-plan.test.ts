import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import type { DynamoChange, KinesisDynamoChange, KinesisRecord } from '../../src/core/records.js';
import { conditionalPut, latestPerKey, planMirrorWrite, type MirrorVersioning } from '../../src/views/mirror/plan.js';
import { changeTimeVersion, compareVersions, supersedes } from '../../src/views/mirror/version.js';
import { visibleMirrorItem } from '../../src/views/mirror/read.js';

interface User {
  userId: string;
  name: string;
  v: number;
}

function change(kind: DynamoChange['kind'], seq: number, image: User, atMs = 1_700_000_000_000): DynamoChange<User> {
  return {
    type: 'dynamodb',
    kind,
    keys: { userId: image.userId },
    ...(kind === 'insert' ? {} : { oldImage: image }),
    ...(kind === 'remove' ? {} : { newImage: image }),
    ttlExpired: false,
    approximateCreationTime: new Date(atMs),
    eventId: `e${seq}`,
    position: { source: 'users', shardId: 'sh', sequenceNumber: String(seq).padStart(21, '0') },
    sizeBytes: 0,
  };
}

const byTime: MirrorVersioning = { kind: 'changeTime' };
const byAttr: MirrorVersioning = { kind: 'attribute', attribute: 'v' };
const plan = (c: Parameters<typeof planMirrorWrite<User>>[0], versioning: MirrorVersioning = byTime) =>
  planMirrorWrite<User>(c, {
    view: 'm',
    keys: [{ name: 'userId', type: 'S', role: 'partition' }],
    versioning,
    tombstoneExpiresAt: 2_000_000_000,
  });

describe('mirror versions', () => {
  it('changeTimeVersion orders by time, then by sequence number, as strings', () => {
    const a = changeTimeVersion(1_000_000, '99');
    const b = changeTimeVersion(1_000_000, '100');
    const c = changeTimeVersion(2_000_000, '1');
    expect([c, b, a].sort()).toEqual([a, b, c]);
    expect(a.length).toBe(b.length);
    expect(changeTimeVersion(5, undefined)).toBe(changeTimeVersion(5, '0'));
    expect(changeTimeVersion(5, '0007')).toBe(changeTimeVersion(5, '7'));
  });

  it('compareVersions compares like DynamoDB: numbers numerically, strings by code point, mixed types not at all', () => {
    expect(compareVersions(2, 10)).toBeLessThan(0);
    expect(compareVersions('10', '2')).toBeLessThan(0);
    expect(compareVersions(3, 3)).toBe(0);
    expect(compareVersions(1, '1')).toBeUndefined();
  });

  it('supersedes: newer wins; a delete wins a tie with a live item; nothing else wins a tie', () => {
    expect(supersedes(undefined, 1, false)).toBe(true);
    expect(supersedes({ deleted: false }, 1, false)).toBe(true);
    expect(supersedes({ version: 2, deleted: false }, 3, false)).toBe(true);
    expect(supersedes({ version: 3, deleted: false }, 2, false)).toBe(false);
    expect(supersedes({ version: 3, deleted: false }, 3, false)).toBe(false);
    expect(supersedes({ version: 3, deleted: false }, 3, true)).toBe(true);
    expect(supersedes({ version: 3, deleted: true }, 3, true)).toBe(false);
    expect(supersedes({ version: 3, deleted: true }, 3, false)).toBe(false);
    expect(supersedes({ version: 3, deleted: true }, 4, false)).toBe(true);
  });
});

describe('mirror write planning', () => {
  it('an insert puts the new image with its change-time version', () => {
    const w = plan(change('insert', 7, { userId: 'u1', name: 'Ann', v: 1 }));
    expect(w.isDelete).toBe(false);
    expect(unmarshall(w.item)).toEqual({
      userId: 'u1',
      name: 'Ann',
      v: 1,
      _tributary_version: changeTimeVersion(1_700_000_000_000_000, '7'),
    });
    const put = conditionalPut(w, { partitionKey: 'userId', versionAttribute: '_tributary_version' });
    expect(put.ConditionExpression).toBe('attribute_not_exists(#pk) OR attribute_not_exists(#v) OR #v < :v');
    expect(put.ExpressionAttributeValues).toEqual({ ':v': { S: w.version } });
  });

  it('a remove becomes a tombstone: key, version, deleted flag and expiry only', () => {
    const w = plan(change('remove', 9, { userId: 'u1', name: 'Ann', v: 4 }));
    expect(w.isDelete).toBe(true);
    expect(unmarshall(w.item)).toEqual({
      userId: 'u1',
      _tributary_version: w.version,
      _tributary_deleted: true,
      _tributary_expires: 2_000_000_000,
    });
    expect(visibleMirrorItem(unmarshall(w.item))).toBeUndefined();
    expect(
      conditionalPut(w, { partitionKey: 'userId', versionAttribute: '_tributary_version' }).ConditionExpression,
    ).toMatch(/OR \(#v = :v AND attribute_not_exists\(#d\)\)$/);
  });

  it('with a version attribute, a tombstone carries the old image version', () => {
    const w = plan(change('remove', 9, { userId: 'u1', name: 'Ann', v: 4 }), byAttr);
    expect(w.version).toBe(4);
    expect(unmarshall(w.item)).toEqual({
      userId: 'u1',
      v: 4,
      _tributary_deleted: true,
      _tributary_expires: 2_000_000_000,
    });
    expect(conditionalPut(w, { partitionKey: 'userId', versionAttribute: 'v' }).ExpressionAttributeValues).toEqual({
      ':v': { N: '4' },
    });
  });

  it('rejects a change without a usable version attribute with view.invalidVersion', () => {
    expect(() => plan(change('insert', 1, { userId: 'u1', name: 'Ann' } as User), byAttr)).toThrow(
      expect.objectContaining({ code: 'view.invalidVersion' }),
    );
  });

  it("rejects a change whose key breaks the mirror's key rules with view.invalidKey", () => {
    const withKey = (userId: unknown) =>
      ({ ...change('insert', 1, { userId: 'u1', name: 'Ann', v: 1 }), keys: { userId } }) as DynamoChange<User>;
    expect(() => plan(withKey(undefined))).toThrow(
      expect.objectContaining({ code: 'view.invalidKey', message: expect.stringMatching(/'userId' is missing/) }),
    );
    expect(() => plan(withKey(7))).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/is a number but the mirror declares it as S/) }),
    );
    expect(() => plan(withKey('x'.repeat(2049)))).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/2049 bytes; DynamoDB allows at most 2048/) }),
    );
  });

  it('accepts Kinesis-decoded changes, versioned by their micros and bridged sequence number', () => {
    const value: KinesisDynamoChange<User> = {
      type: 'kinesis-dynamodb',
      kind: 'modify',
      keys: { userId: 'u1' },
      newImage: { userId: 'u1', name: 'B', v: 2 },
      ttlExpired: false,
      approximateCreationTime: new Date(1_700_000_000_000),
      approximateCreationMicros: 1_700_000_000_000_123,
      sequenceNumber: '42',
      eventId: 'e',
      tableName: 'users',
      awsRegion: 'us-east-1',
      sizeBytes: 0,
    };
    const rec = {
      type: 'kinesis',
      value,
      partitionKey: 'p',
      arrivalTime: new Date(),
      position: { source: 's', shardId: 'x', sequenceNumber: '999', subSequenceNumber: 0 },
      sizeBytes: 0,
    } satisfies KinesisRecord<KinesisDynamoChange<User>>;
    expect(plan(rec).version).toBe(changeTimeVersion(1_700_000_000_000_123, '42'));
    expect(plan(value).version).toBe(plan(rec).version);
    expect(() => plan({ ...rec, value: { hello: 1 } } as unknown as typeof rec)).toThrow(/kinesisDynamoChanges/);
  });

  it('latestPerKey keeps the newest write per key whatever the order, duplicates included', () => {
    const ins = plan(change('insert', 1, { userId: 'u1', name: 'A', v: 1 }));
    const mod = plan(change('modify', 2, { userId: 'u1', name: 'B', v: 2 }));
    const rem = plan(change('remove', 3, { userId: 'u1', name: 'B', v: 2 }));
    const other = plan(change('insert', 4, { userId: 'u2', name: 'C', v: 1 }));
    for (const order of [
      [ins, mod, rem, other],
      [rem, mod, ins, other, rem],
      [other, mod, rem, ins, mod],
    ]) {
      const out = latestPerKey(order);
      expect(out).toHaveLength(2);
      expect(out.find((w) => w.keyString === ins.keyString)).toBe(rem);
    }
    // By a version attribute, the delete of version 2 beats the put of version 2.
    const put2 = plan(change('modify', 2, { userId: 'u1', name: 'B', v: 2 }), byAttr);
    const del2 = plan(change('remove', 3, { userId: 'u1', name: 'B', v: 2 }), byAttr);
    expect(latestPerKey([del2, put2])).toEqual([del2]);
  });

  it('rejects an item that no longer fits once hidden attributes are added', () => {
    expect(() => plan(change('insert', 1, { userId: 'u1', name: 'x'.repeat(409_550), v: 1 }))).toThrow(
      expect.objectContaining({ code: 'sink.itemTooLarge' }),
    );
  });
});
