import { install, type Clock as FakeClock } from '@sinonjs/fake-timers';
import { syncBuiltinESMExports } from 'node:module';
import { TributaryError } from '../../core/errors.js';

/**
 * Event-loop turns with nothing in flight and no timer due before the code under test counts as
 * waiting: a turn lets promise chains finish, and code that yields with `setImmediate` (dynalite's
 * store, the memory source) gets its turn.
 */
const IDLE_TURNS = 5;
/** Turns one quiescence may take: past it, something spins without waiting on time or I/O. */
const MAX_TURNS = 200_000;

/** The real `setImmediate`, which the virtual clock leaves alone: the driver turns the event loop with it. */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
/** The real `setTimeout`, taken before any clock is installed: for waiting on real I/O (a module a test runner loads). */
const realSetTimeout = globalThis.setTimeout;
/** How long the app may wait on something outside the clock and the services (real I/O) before it counts as stuck. */
const REAL_WAIT_MS = 10_000;

/** Real milliseconds (the process's monotonic clock, which the virtual clock does not fake). */
const performanceNow = (): number => Number(process.hrtime.bigint() / 1_000_000n);

/** What keeps the virtual clock from moving: requests the in-process services have not answered yet. */
export interface Activity {
  readonly inFlight: number;
}

/**
 * The driver's virtual clock: `Date`, `performance.now`, `setTimeout` and `setInterval` of the
 * whole process (globals, `node:timers` and `node:timers/promises`) are faked (by
 * `@sinonjs/fake-timers`), so every timer of the app (checkpoint
 * intervals, flush delays, lease rounds and expiry, tap ticks, the SDK's retry backoff) and every
 * reading of the time (time buckets, window ends, TTL) is on it. Time moves only here, one timer
 * at a time, and only once the code under test waits: nothing in flight in the in-process
 * services, nothing due now. `setImmediate`, `process.nextTick` and promises stay real, so code
 * between two timers runs as it would.
 *
 * The timers are stepped here rather than with fake-timers' `tickAsync`, which looks for the next
 * timer one macrotask after the last and so may pass over timers that code it woke sets a few
 * `setImmediate` turns later.
 */
export class VirtualTime {
  private readonly clock: FakeClock;

  constructor(
    start: number,
    private readonly activity: Activity,
  ) {
    this.clock = install({
      now: start,
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
      loopLimit: 100_000,
      // A timer set before the driver started (a socket's, an emulator check's) is cleared for real.
      shouldClearNativeTimers: true,
    });
    // fake-timers replaces the methods of `node:timers` and `node:timers/promises` too; this makes
    // ESM imports of them (`import { setTimeout } from 'node:timers/promises'`) see the fakes.
    syncBuiltinESMExports();
  }

  /** Epoch milliseconds on the virtual clock. */
  now(): number {
    return this.clock.now;
  }

  /** Fires the timers due at the current time (`setTimeout(fn, 0)`) without moving it: dynalite's table status timers. */
  fireDue(): void {
    this.clock.tick(0);
  }

  private dueNow(): boolean {
    for (const t of this.clock.timers?.values() ?? []) if ((t.callAt ?? Infinity) <= this.clock.now) return true;
    return false;
  }

  /**
   * Lets the code under test run until it waits on time: every request answered, every timer due
   * now fired, and a few idle turns in a row. Time stands still.
   */
  async quiesce(): Promise<void> {
    let idle = 0;
    for (let turns = 0; idle < IDLE_TURNS; turns++) {
      if (turns > MAX_TURNS)
        throw new TributaryError(
          'testing.notSettled',
          `the app kept the event loop busy for ${MAX_TURNS} turns without waiting on a timer or a request`,
        );
      await turn();
      if (this.dueNow()) {
        this.clock.tick(0);
        idle = 0;
      } else idle = this.activity.inFlight === 0 ? idle + 1 : 0;
    }
  }

  /**
   * Moves time on, timer by timer, until `done` holds (checked whenever the app waits). Fails
   * with `testing.notSettled` past `maxMs` of virtual time, or when no timer is left to fire.
   */
  async runUntil(done: () => boolean | Promise<boolean>, maxMs: number, what: () => string): Promise<void> {
    const deadline = this.clock.now + maxMs;
    for (;;) {
      await this.quiesce();
      if (await done()) return;
      if (this.clock.now >= deadline)
        throw new TributaryError('testing.notSettled', `${what()} after ${maxMs} ms of virtual time`, {
          details: { maxMs },
        });
      if (this.clock.countTimers() === 0 && !(await this.outsideWait(done)))
        throw new TributaryError('testing.notSettled', `${what()}, and no timer is pending to move on with`);
      if (this.clock.countTimers() > 0) this.clock.next();
    }
  }

  /**
   * With no timer pending, the app may still be waiting on real I/O (a test runner loading a
   * module on first use): waits in real time, for up to REAL_WAIT_MS, until `done` holds or a
   * timer or a request appears. False when nothing came.
   */
  private async outsideWait(done: () => boolean | Promise<boolean>): Promise<boolean> {
    const until = performanceNow() + REAL_WAIT_MS;
    while (performanceNow() < until) {
      await new Promise((r) => realSetTimeout(r, 5));
      if (this.clock.countTimers() > 0 || this.activity.inFlight > 0 || (await done())) return true;
    }
    return false;
  }

  /** Moves time forward by `ms`, firing every timer due on the way in order, letting the app run after each. */
  async advance(ms: number): Promise<void> {
    let reached = false;
    // A timer of our own at the end: `next()` never fires one beyond it.
    const end = setTimeout(() => (reached = true), Math.max(0, ms));
    try {
      for (;;) {
        await this.quiesce();
        if (reached) return;
        this.clock.next();
      }
    } finally {
      clearTimeout(end);
    }
  }

  /** Puts the process's own timers back. Timers still pending on the virtual clock are dropped. */
  uninstall(): void {
    this.clock.uninstall();
    syncBuiltinESMExports();
  }
}
