/** A scheduled callback of a {@link Clock}. */
export interface Timer {
  /** Stops the callback from running (again). Calling it twice is harmless. */
  cancel(): void;
  /** Lets the process exit while this timer is still pending, as Node's `unref` does. */
  unref(): void;
}

/**
 * The time the runtime reads and the timers it sets: checkpoint intervals, lease rounds and
 * renewals, capacity refills and waits, the shutdown deadline. Injected so that a test can run the
 * runtime on a clock it moves itself (`ManualClock` in `tributary/testing`).
 *
 * @example
 * ```ts
 * const clock: Clock = options.clock ?? systemClock;
 * const started = clock.now();
 * const renewal = clock.setInterval(() => void renew(), 3_000);
 * await clock.sleep(500, stopping.signal);
 * renewal.cancel();
 * console.log(clock.now() - started, 'ms');
 * ```
 */
export interface Clock {
  /** Milliseconds on a monotonic scale (not a date): only differences between two readings mean anything. */
  now(): number;
  /** Runs `fn` once, `ms` from now. */
  setTimeout(fn: () => void, ms: number): Timer;
  /** Runs `fn` every `ms`, until cancelled. */
  setInterval(fn: () => void, ms: number): Timer;
  /** Resolves `ms` from now, or as soon as `signal` aborts (never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * `sleep` on any clock's `setTimeout`: resolves when the timer fires or the signal aborts,
 * whichever comes first, and leaves neither the timer nor the listener behind.
 */
export function sleepOn(clock: Pick<Clock, 'setTimeout'>, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = clock.setTimeout(done, ms);
    function done() {
      timer.cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

const nodeTimer = (t: NodeJS.Timeout, clear: (t: NodeJS.Timeout) => void): Timer => ({
  cancel: () => clear(t),
  unref: () => void t.unref(),
});

/** The process's own clock: `performance.now()` (a wall clock step moves nothing) and Node's timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => nodeTimer(setTimeout(fn, ms), clearTimeout),
  setInterval: (fn, ms) => nodeTimer(setInterval(fn, ms), clearInterval),
  sleep: (ms, signal) => sleepOn(systemClock, ms, signal),
};
