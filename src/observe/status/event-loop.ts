import type { HealthCheck } from './types.js';

const TICK_MS = 500;

/**
 * Watches the event loop turn: a timer ticks every 500 ms and records how late it fired. A loop
 * blocked by a long synchronous task (or starved by the CPU) fires it late; `/livez` fails when
 * the latest tick is later than the limit, or no tick has come for that long. Real time, not the
 * runner's clock: a test's manual clock does not make the loop any slower.
 *
 * @example
 * ```ts
 * const loop = new EventLoopWatch();
 * loop.start();
 * loop.check(10_000); // { ok: true, detail: 'last tick 3 ms late' }
 * ```
 */
export class EventLoopWatch {
  private last = Date.now();
  private lateMs = 0;
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    this.last = Date.now();
    this.timer ??= setInterval(() => {
      const now = Date.now();
      this.lateMs = Math.max(0, now - this.last - TICK_MS);
      this.last = now;
    }, TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  check(limitMs: number): HealthCheck {
    const silentMs = Date.now() - this.last;
    const ok = this.lateMs < limitMs && silentMs < limitMs + TICK_MS;
    return { ok, detail: `last tick ${this.lateMs} ms late, ${silentMs} ms ago` };
  }
}
