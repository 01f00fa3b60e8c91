import { describe, expect, it } from 'vitest';
import { tablePrefix } from '../../src/views/tables/naming.js';
import { planTable } from '../../src/views/tables/plan.js';

describe('tablePrefix', () => {
  it('owns only names inside it; an empty prefix owns nothing', () => {
    const p = tablePrefix('dev_');
    expect(p.physical('orders')).toBe('dev_orders');
    expect(p.owns('dev_orders')).toBe(true);
    expect(p.owns('devices')).toBe(false);
    expect(p.owns('dev_')).toBe(false);
    expect(tablePrefix('').owns('orders')).toBe(false);
  });

  it('rejects a prefix that does not end with a separator', () => {
    expect(() => tablePrefix('dev')).toThrow(/must be/);
  });
});

describe('planTable', () => {
  const spec = {
    name: 'v',
    partitionKey: { name: 'pk', type: 'S' as const },
    sortKey: { name: 'sk', type: 'N' as const },
  };
  const existing = {
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' as const },
      { AttributeName: 'sk', KeyType: 'RANGE' as const },
    ],
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' as const },
      { AttributeName: 'sk', AttributeType: 'N' as const },
    ],
    BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' as const },
  };

  it('creates a missing table and leaves a matching one alone', () => {
    expect(planTable(spec, 'v', undefined).kind).toBe('create');
    expect(planTable(spec, 'v', existing).kind).toBe('unchanged');
  });

  it('calls a key type or key name difference a conflict', () => {
    const wrongType = {
      ...existing,
      AttributeDefinitions: [existing.AttributeDefinitions[0]!, { AttributeName: 'sk', AttributeType: 'S' as const }],
    };
    expect(planTable(spec, 'v', wrongType).kind).toBe('conflict');
    expect(planTable({ ...spec, sortKey: undefined }, 'v', existing).kind).toBe('conflict');
  });

  it('plans billing, stream and index changes as updates', () => {
    const a = planTable(
      {
        ...spec,
        provisioned: { read: 1, write: 2 },
        stream: 'NEW_IMAGE',
        globalSecondaryIndexes: [{ name: 'g', partitionKey: { name: 'x', type: 'S' } }],
      },
      'v',
      existing,
    );
    expect(a.kind === 'update' && a.changes).toEqual([
      'billing on-demand -> provisioned 1/2',
      'enable stream NEW_IMAGE',
      'add index g',
    ]);
  });

  it("calls a change of an enabled stream's view type a conflict unless allowed: it would orphan every checkpoint", () => {
    const streaming = {
      ...existing,
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' as const },
    };
    const wants = { ...spec, stream: 'NEW_AND_OLD_IMAGES' as const };
    const refused = planTable(wants, 'v', streaming);
    expect(refused.kind).toBe('conflict');
    expect(refused.kind === 'conflict' && refused.problems.join()).toMatch(
      /stream is KEYS_ONLY, spec wants NEW_AND_OLD_IMAGES.*--allow-stream-change/,
    );
    const allowed = planTable(wants, 'v', streaming, { allowStreamChange: true });
    expect(allowed.kind === 'update' && allowed.changes).toEqual([
      'stream KEYS_ONLY -> NEW_AND_OLD_IMAGES (disable, then enable)',
    ]);
    expect(planTable({ ...spec, stream: 'KEYS_ONLY' }, 'v', streaming).kind).toBe('unchanged');
  });
});
