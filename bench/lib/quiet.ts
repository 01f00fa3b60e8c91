import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** CPU time (user + system, in clock ticks) a process has used so far; undefined once it is gone. */
function cpuTicks(pid: number): number | undefined {
  try {
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/**
 * Waits until the given processes (the emulators) use less than `share` of a core over a window,
 * or `maxMs` has passed. DynamoDB Local keeps a core busy for a second or more after CreateTable
 * (its JIT and GC); on a 2-core machine a measurement that starts then is slowed by a neighbour
 * that the baseline never had. Linux only (/proc); elsewhere it returns at once.
 *
 * @example
 * ```ts
 * await runner.start();          // creates the lease and dead-letter tables
 * await emulatorsQuiet(emu.pids); // then start the clock
 * ```
 */
export async function emulatorsQuiet(
  pids: readonly number[],
  opts: { share?: number; windowMs?: number; maxMs?: number } = {},
): Promise<number> {
  const share = opts.share ?? 0.05;
  const windowMs = opts.windowMs ?? 300;
  const maxMs = opts.maxMs ?? 10_000;
  const ticksPerMs = 100 / 1000; // USER_HZ is 100 on Linux
  const t0 = performance.now();
  const total = () => pids.reduce((n, p) => n + (cpuTicks(p) ?? 0), 0);
  if (pids.length === 0 || cpuTicks(pids[0]!) === undefined) return 0;
  while (performance.now() - t0 < maxMs) {
    const before = total();
    await sleep(windowMs);
    if (total() - before <= share * windowMs * ticksPerMs) break;
  }
  return performance.now() - t0;
}
