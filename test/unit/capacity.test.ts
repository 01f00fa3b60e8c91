import { describe, expect, it } from 'vitest';
import { Aimd } from '../../src/runtime/capacity/aimd.js';
import { TokenBucket } from '../../src/runtime/capacity/token-bucket.js';

describe('TokenBucket', () => {
  it('lets through the rate per second and says how long to wait beyond it', () => {
    let now = 0;
    const b = new TokenBucket(100, 100, () => now);
    expect(b.tryTake(60)).toBe(0);
    expect(b.tryTake(60)).toBe(200); // 40 left, 20 missing at 100/s
    now += 200;
    expect(b.tryTake(60)).toBe(0);
  });

  it('never saves more than its capacity (the burst allowance)', () => {
    let now = 0;
    const b = new TokenBucket(10, 50, () => now);
    now += 3_600_000;
    expect(b.available).toBe(50);
  });

  it('charges an underestimate afterwards, so later callers wait it off', () => {
    const now = 0;
    const b = new TokenBucket(10, 10, () => now);
    expect(b.tryTake(5)).toBe(0);
    b.adjust(15); // the call cost 20, not 5
    expect(b.available).toBe(-10);
    expect(b.tryTake(1)).toBe(1100);
  });

  it('lets a request larger than the capacity through once the bucket is full', () => {
    let now = 0;
    const b = new TokenBucket(1, 2, () => now);
    expect(b.tryTake(5)).toBeGreaterThan(0);
    now += 2_000;
    expect(b.tryTake(5)).toBe(0);
    expect(b.available).toBeLessThan(0);
  });
});

describe('Aimd', () => {
  it('cuts the rate on throttling once per cooldown and grows it back to the budget', () => {
    let now = 0;
    const a = new Aimd(100, { decrease: 0.5, increasePerSecond: 0.1, floor: 0.05 }, () => now, 1_000);
    a.throttled();
    a.throttled(); // same moment: counted once
    expect(a.current).toBe(50);
    now += 2_000;
    expect(a.current).toBeCloseTo(70);
    now += 10_000;
    expect(a.current).toBe(100);
  });

  it('never drops below the floor and follows budget changes', () => {
    let now = 0;
    const a = new Aimd(100, { decrease: 0.1, increasePerSecond: 0, floor: 0.05 }, () => now, 0);
    for (let i = 0; i < 10; i++) {
      now += 1;
      a.throttled();
    }
    expect(a.current).toBe(5);
    a.setBudget(400);
    expect(a.limit).toBe(400);
    expect(a.current).toBe(20);
  });

  it('starts at the full budget and keeps full speed when the budget is raised', () => {
    const now = 0;
    const a = new Aimd(1, { decrease: 0.5, increasePerSecond: 0.05, floor: 0.05 }, () => now);
    a.setBudget(100);
    expect(a.current).toBe(100);
    a.setBudget(400);
    expect(a.current).toBe(400);
  });
});
