import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/core/token-bucket.js';

/** A clock the test moves by hand. */
const clock = () => {
  let t = 0;
  const now = () => t;
  return { now, advance: (ms: number) => (t += ms) };
};

describe('TokenBucket', () => {
  it('starts full and refills continuously at the rate', () => {
    const c = clock();
    const b = new TokenBucket({ rate: 100, capacity: 100, now: c.now });
    expect(b.available()).toBe(100);
    b.take(100);
    expect(b.available()).toBe(0);
    c.advance(250);
    expect(b.available()).toBeCloseTo(25);
  });

  it('starts with the initial balance when one is given, and banks up to its capacity', () => {
    const c = clock();
    const b = new TokenBucket({ rate: 10, capacity: 3_000, initial: 10, now: c.now });
    expect(b.available()).toBe(10);
    c.advance(100_000);
    expect(b.available()).toBe(1_010);
    c.advance(1_000_000);
    expect(b.available()).toBe(3_000);
  });

  it('holds one second of the rate by default, and at least one token', () => {
    expect(new TokenBucket({ rate: 25 }).capacity).toBe(25);
    expect(new TokenBucket({ rate: 0.5 }).capacity).toBe(1);
  });

  it('lets a debit take the balance below zero, says how long the debt lasts, and the refill repays it', () => {
    const c = clock();
    const b = new TokenBucket({ rate: 10, capacity: 10, now: c.now });
    expect(b.take(400)).toBe(39_000);
    expect(b.available()).toBe(-390);
    c.advance(39_000);
    expect(b.available()).toBeCloseTo(0);
    c.advance(100);
    expect(b.available()).toBeGreaterThan(0);
  });

  it('never refunds above capacity', () => {
    const c = clock();
    const b = new TokenBucket({ rate: 10, capacity: 10, now: c.now });
    expect(b.take(-50)).toBe(0);
    expect(b.available()).toBe(10);
  });

  it('keeps its balance, clipped to the new capacity, when the rate changes', () => {
    const c = clock();
    const b = new TokenBucket({ rate: 100, capacity: 100, now: c.now });
    b.take(30);
    b.setRate(1_000, 1_000);
    expect(b.available()).toBe(70);
    c.advance(100);
    expect(b.available()).toBeCloseTo(170);
    b.setRate(10, 10);
    expect(b.available()).toBe(10);
    expect(b.rate).toBe(10);
    expect(b.capacity).toBe(10);
  });

  it('keeps its capacity when only the rate changes', () => {
    const c = clock();
    const b = new TokenBucket({ rate: 10, capacity: 50, now: c.now });
    b.setRate(5);
    expect(b.capacity).toBe(50);
    c.advance(3_600_000);
    expect(b.available()).toBe(50);
  });

  describe('take: paced takers in order', () => {
    it('serves a burst at once, then paces takers at the rate, in order', () => {
      const c = clock();
      const b = new TokenBucket({ rate: 10, capacity: 10, now: c.now });
      for (let i = 0; i < 10; i++) expect(b.take(1)).toBe(0);
      expect(b.take(1)).toBe(100);
      expect(b.take(1)).toBe(200);
      c.advance(200);
      expect(b.take(1)).toBe(100);
      c.advance(4_800);
      expect(b.take(1)).toBe(0);
    });

    it('acquire waits the time its take reserved', async () => {
      const waits: number[] = [];
      const b = new TokenBucket({ rate: 2, capacity: 1, now: () => 0, sleep: async (ms) => void waits.push(ms) });
      await b.acquire(1);
      await b.acquire(1);
      await b.acquire(3);
      expect(waits).toEqual([500, 2_000]);
    });
  });

  describe('tryTake: takes only what is there', () => {
    it('lets through the rate per second and says how long to wait beyond it', () => {
      const c = clock();
      const b = new TokenBucket({ rate: 100, capacity: 100, now: c.now });
      expect(b.tryTake(60)).toBe(0);
      expect(b.tryTake(60)).toBe(200); // 40 left, 20 missing at 100/s
      expect(b.available()).toBe(40); // a refusal takes nothing
      c.advance(200);
      expect(b.tryTake(60)).toBe(0);
    });

    it('charges an underestimate afterwards, so later callers wait it off', () => {
      const c = clock();
      const b = new TokenBucket({ rate: 10, capacity: 10, now: c.now });
      expect(b.tryTake(5)).toBe(0);
      b.take(15); // the call cost 20, not 5
      expect(b.available()).toBe(-10);
      expect(b.tryTake(1)).toBe(1_100);
    });

    it('lets a request larger than the capacity through once the bucket is full', () => {
      const c = clock();
      const b = new TokenBucket({ rate: 1, capacity: 2, initial: 1, now: c.now });
      expect(b.tryTake(5)).toBeGreaterThan(0);
      c.advance(2_000);
      expect(b.tryTake(5)).toBe(0);
      expect(b.available()).toBeLessThan(0);
    });
  });
});
