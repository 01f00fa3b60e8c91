import { describe, expect, it } from 'vitest';
import { Aimd } from '../../src/runtime/capacity/aimd.js';

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
