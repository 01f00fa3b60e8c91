import { describe, expect, it } from 'vitest';
import { runDev } from './dev-run.js';

const dev = (file: string) => runDev(file, 12_000, 90_000);

/** The report printed after the final progress line. */
function finalReport(stdout: string): string {
  const final = /^\[final\] records in (\d+), applied (\d+), dead letters (\d+)$/m.exec(stdout);
  expect(final, stdout).not.toBeNull();
  expect(Number(final![2])).toBeGreaterThan(0);
  expect(Number(final![3])).toBe(0);
  return stdout.slice(final!.index);
}

describe('examples', () => {
  it('examples/index-view.ts runs under `tributary dev`: the index matches its source, no-op modifies write nothing, the query helper reads base items', async () => {
    const run = await dev('examples/index-view.ts');
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
    const report = finalReport(run.stdout);
    expect(report).toMatch(/rows: albums_members [1-9]\d*, albums_by_user [1-9]\d*/);
    expect(report).toMatch(/index matches source: yes/);
    const writes = /view writes: (\d+) puts, (\d+) deletes; (\d+) modifies left the view unchanged \(no write\)/.exec(
      report,
    );
    expect(writes, report).not.toBeNull();
    expect(Number(writes![1])).toBeGreaterThan(0);
    expect(Number(writes![3])).toBeGreaterThan(0);
    expect(report).toMatch(
      /u1's albums \(view \+ base items\): (none yet|a\d \w+ \(last seen (\d\d:\d\d:\d\d|gone)\))/,
    );
    expect(report).toMatch(/dead letters: 0/);
  });

  it('examples/mirror.ts runs under `tributary dev`: both replicas, fed through the Kinesis bridge, match the source', async () => {
    const run = await dev('examples/mirror.ts');
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
    const report = finalReport(run.stdout);
    expect(report).toMatch(/rows: mirror_users [1-9]\d*/);
    expect(report).toMatch(/mirror_users_eu: \d+ live, \d+ tombstones; matches source: yes/);
    expect(report).toMatch(/mirror_users_us: \d+ live, \d+ tombstones; matches source: yes/);
    expect(report).toMatch(/mirror writes: [1-9]\d* applied, \d+ refused as stale or duplicate/);
    expect(report).toMatch(/dead letters: 0/);
  });
});
