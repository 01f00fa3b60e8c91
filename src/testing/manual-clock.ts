import { sleepOn, type Clock, type Timer } from '../core/clock.js';

interface Scheduled {
  readonly fn: () => void;
  due: number;
  /** Period of an interval; undefined for a one-off timer. */
  readonly every?: number;
}

/**
 * Event-loop turns that code woken by a timer gets to reach its next wait (a timer, I/O, a
 * promise of its own) before time moves on. A turn is one `setImmediate`: it lets promise chains
 * finish and gives answers already arrived and code that yields with `setImmediate` (as the
 * memory source does once per batch) their turn.
 */
const SETTLE_TURNS = 5;

/**
 * A clock that moves only when the test moves it. `advance` and `next` fire the timers that fall
 * due in order of due time (timers due at the same moment in the order they were set), and let
 * what each timer wakes run on until it waits again before the next one fires. Time starts at 0.
 * Only code handed this clock runs on it: the process's own timers are left alone.
 *
 * Written here rather than on `@sinonjs/fake-timers`: its asynchronous ticks look for the next
 * timer one `setTimeout` after the last, which Node may run before the `setImmediate` turns of the
 * code the last timer woke, so the timers that code sets come late or are passed over.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * const runner = new Runner(app, { clients, clock });
 * await runner.start();
 * await clock.advance(1_000); // a second of lease rounds, renewals and checkpoints, in order
 * ```
 */
export class ManualClock implements Clock {
  private time = 0;
  /** In the order set (an interval moves to the end each time it fires): ties fire in this order. */
  private readonly timers = new Set<Scheduled>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.schedule({ fn, due: this.time + delay(ms) });
  }

  setInterval(fn: () => void, ms: number): Timer {
    // A period of at least 1 ms, as Node's: a zero period would fire forever without time moving.
    const every = Math.max(1, delay(ms));
    return this.schedule({ fn, due: this.time + every, every });
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Moves time forward by `ms`, firing every timer due on the way (an interval as often as it falls due). */
  async advance(ms: number): Promise<void> {
    const until = this.time + delay(ms);
    for (let t = await this.earliest(until); t; t = await this.earliest(until)) this.fire(t);
    this.time = until;
  }

  /** Moves time to the earliest pending timer and fires it, and lets what it wakes run; false when none was pending. */
  async next(): Promise<boolean> {
    const t = await this.earliest(Infinity);
    if (!t) return false;
    this.fire(t);
    await this.settle();
    return true;
  }

  /** Lets the code that the last timer woke run on until it waits again; time stands still. */
  async settle(): Promise<void> {
    for (let i = 0; i < SETTLE_TURNS; i++) await new Promise<void>((r) => setImmediate(r));
  }

  /** Timers set and neither fired (a timeout) nor cancelled. */
  get pending(): number {
    return this.timers.size;
  }

  private schedule(t: Scheduled): Timer {
    this.timers.add(t);
    return { cancel: () => void this.timers.delete(t), unref: () => {} };
  }

  /** The first timer due by `until`, once the code under test has settled. */
  private async earliest(until: number): Promise<Scheduled | undefined> {
    await this.settle();
    let first: Scheduled | undefined;
    for (const t of this.timers) if (t.due <= until && (!first || t.due < first.due)) first = t;
    return first;
  }

  private fire(t: Scheduled): void {
    this.time = Math.max(this.time, t.due);
    this.timers.delete(t);
    if (t.every !== undefined) {
      t.due += t.every;
      this.timers.add(t);
    }
    t.fn();
  }
}

const delay = (ms: number): number => (Number.isFinite(ms) && ms > 0 ? ms : 0);
