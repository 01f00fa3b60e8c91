import { describe, expect, it } from 'vitest';
import { runDev } from './dev-run.js';

describe('examples/counters.ts', () => {
  it('counts every page view sent, per page and minute, and keeps a live count of items per owner equal to the table', async () => {
    const r = await runDev('examples/counters.ts', 12_000, 110_000);
    const all = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    expect(r.code, all).toBe(0);

    const final = /^\[final\] records in (\d+), applied (\d+), dead letters (\d+)$/m.exec(r.stdout);
    expect(final, all).not.toBeNull();
    const [recordsIn, applied, deadLetters] = [Number(final![1]), Number(final![2]), Number(final![3])];
    expect(applied).toBeGreaterThan(0);
    expect(deadLetters).toBe(0);
    expect(applied).toBe(recordsIn);

    const report = r.stdout.slice(final!.index);
    const views = /^ {2}page views: counted (\d+) of (\d+) sent, in (\d+) page-minute counters$/m.exec(report);
    expect(views, report).not.toBeNull();
    expect(Number(views![2])).toBeGreaterThan(50);
    expect(Number(views![1])).toBe(Number(views![2]));
    expect(Number(views![3])).toBeGreaterThan(0);
    expect(report).toMatch(/^ {2}busiest pages in minute \d{4}-\d{2}-\d{2}T\d{2}:\d{2}: \S+ \d+ \(avg \d+ ms\)/m);
    const owners = /^ {2}items per owner: (.*) \((\d+) items\); matches the table: (yes|no)$/m.exec(report);
    expect(owners, report).not.toBeNull();
    expect(Number(owners![2])).toBeGreaterThan(0);
    expect(owners![3]).toBe('yes');
    expect(r.stdout).toMatch(/emulators stopped\s*$/);
  });
});
