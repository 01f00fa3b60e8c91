import { describe, expect, it } from 'vitest';
import { addPeriods, parsePeriodId, periodId, periodStart } from '../../src/views/event-table/period.js';
import { rotationPlan } from '../../src/views/event-table/rotation-plan.js';
import type { EventTableLayout } from '../../src/views/event-table/options.js';

const monthly: EventTableLayout = {
  table: 'events',
  bucket: '1h',
  writeShards: 4,
  rotation: { period: 'month', retention: 3, createAhead: 1 },
};
const daily: EventTableLayout = {
  table: 'events',
  bucket: '1h',
  writeShards: 4,
  rotation: { period: 'day', retention: 2, createAhead: 2 },
};

describe('rotation periods', () => {
  it('names periods by UTC day or month and steps across month and year ends', () => {
    const t = Date.parse('2026-12-31T23:59:59.999Z');
    expect(periodId(t, 'day')).toBe('2026_12_31');
    expect(periodId(t, 'month')).toBe('2026_12');
    expect(periodId(addPeriods(periodStart(t, 'month'), 1, 'month'), 'month')).toBe('2027_01');
    expect(periodId(addPeriods(periodStart(t, 'month'), -12, 'month'), 'month')).toBe('2025_12');
    expect(periodId(addPeriods(periodStart(t, 'day'), 1, 'day'), 'day')).toBe('2027_01_01');
    expect(periodId(addPeriods(periodStart(Date.parse('2028-03-01T05:00:00Z'), 'day'), -1, 'day'), 'day')).toBe(
      '2028_02_29',
    );
  });

  it('parses only exact period ids of the given kind', () => {
    expect(parsePeriodId('2026_11', 'month')).toBe(Date.UTC(2026, 10, 1));
    expect(parsePeriodId('2026_11_22', 'day')).toBe(Date.UTC(2026, 10, 22));
    for (const [id, p] of [
      ['2026_13', 'month'],
      ['2026_11_22', 'month'],
      ['2026_11', 'day'],
      ['2026_02_30', 'day'],
      ['2026_1', 'month'],
      ['x2026_11', 'month'],
      ['2026_11_backup', 'month'],
    ] as const) {
      expect(parsePeriodId(id, p), `${id} as ${p}`).toBeUndefined();
    }
  });
});

describe('rotationPlan', () => {
  it('keeps the current period and createAhead future ones, and drops periods past the retention, oldest first', () => {
    const existing = [
      'events_2026_11',
      'events_2026_07',
      'events_2026_09',
      'events_2026_08',
      'events_2026_10',
      'events_2026_12',
    ];
    const plan = rotationPlan(monthly, new Date('2026-11-22T10:00:00Z'), existing);
    expect(plan.current).toBe('2026_11');
    expect(plan.oldestKept).toBe('2026_09');
    expect(plan.ensure.map((s) => s.name)).toEqual(['events_2026_11', 'events_2026_12']);
    expect(plan.drop).toEqual(['events_2026_07', 'events_2026_08']);
  });

  it("never drops a table that is not exactly one of this table's periods", () => {
    const decoys = [
      'events_2026_01_backup',
      'events_archive_2026_01',
      'events2_2026_01',
      'events_2026_01_15', // a day-named table under monthly rotation
      'my_events_2026_01',
      'events_2026_13',
      'events',
      'orders_2026_01',
    ];
    const plan = rotationPlan(monthly, new Date('2026-11-22T10:00:00Z'), [...decoys, 'events_2026_01']);
    expect(plan.drop).toEqual(['events_2026_01']);
  });

  it('plans days with their own retention and look-ahead', () => {
    const plan = rotationPlan(daily, new Date('2026-03-01T00:00:00Z'), [
      'events_2026_02_27',
      'events_2026_02_28',
      'events_2026_03_01',
      'events_2026_02',
    ]);
    expect(plan.ensure.map((s) => s.name)).toEqual(['events_2026_03_01', 'events_2026_03_02', 'events_2026_03_03']);
    expect(plan.oldestKept).toBe('2026_02_28');
    expect(plan.drop).toEqual(['events_2026_02_27']);
  });

  it('retention 1 keeps only the current period; a table that does not rotate has no plan', () => {
    const plan = rotationPlan(
      { ...monthly, rotation: { period: 'month', retention: 1 } },
      new Date('2026-11-01T00:00:00Z'),
      ['events_2026_10', 'events_2026_11'],
    );
    expect(plan.drop).toEqual(['events_2026_10']);
    expect(plan.ensure.map((s) => s.name)).toEqual(['events_2026_11', 'events_2026_12']);
    expect(() => rotationPlan({ table: 'events', bucket: '1h', writeShards: 1 }, new Date())).toThrow(
      expect.objectContaining({ code: 'config.invalid' }),
    );
  });
});
