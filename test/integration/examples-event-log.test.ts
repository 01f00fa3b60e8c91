import { describe, expect, it } from 'vitest';
import { runDev } from './dev-run.js';

describe('examples/event-log.ts', () => {
  it('stores Kinesis events in a rotating event table and its report replays the last minute in time order', async () => {
    const r = await runDev('examples/event-log.ts', 12_000, 110_000);
    expect(r.code, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);

    const final = /^\[final\] records in (\d+), applied (\d+), dead letters (\d+)$/m.exec(r.stdout);
    expect(final, r.stdout).not.toBeNull();
    const [recordsIn, applied, deadLetters] = [Number(final![1]), Number(final![2]), Number(final![3])];
    expect(applied).toBeGreaterThan(0);
    expect(applied + deadLetters).toBe(recordsIn);

    // The final report: counts per 10 s in time order, then the totals of the replay.
    const report = r.stdout.slice(final!.index);
    const slots = [...report.matchAll(/^ {4}(\d{2}:\d{2}:\d{2}) .* (\d+) \(view (\d+), click (\d+), buy (\d+)\)$/gm)];
    expect(slots.length).toBeGreaterThanOrEqual(6);
    const times = slots.map((m) => m[1]!);
    expect([...times].sort()).toEqual(times);
    for (const m of slots) expect(Number(m[2])).toBe(Number(m[3]) + Number(m[4]) + Number(m[5]));
    const total = /^ {2}replayed (\d+) events \((\d+) distinct ids\), in time order: yes$/m.exec(report);
    expect(total, report).not.toBeNull();
    const replayed = Number(total![1]);
    expect(replayed).toBeGreaterThan(0);
    expect(Number(total![2])).toBe(replayed);
    expect(slots.reduce((a, m) => a + Number(m[2]), 0)).toBe(replayed);
    // Resent events are stored once: never more events than records read.
    expect(replayed).toBeLessThanOrEqual(applied);
    expect(report).toMatch(/tables: event_log_\d{4}_\d{2}_\d{2}, event_log_\d{4}_\d{2}_\d{2} \(current and ahead\)/);
    expect(r.stdout).toMatch(/emulators stopped\s*$/);
  });
});
