import { sleep } from '../core/time.js';
import { startEmulators, type EmulatorOptions, type Emulators } from '../testing/emulators.js';

/**
 * Owns the emulators of `tributary dev` (and `tributary emulators`) so that none outlives the command, whatever the exit
 * path: `stop()` on a normal end or after a signal, `killNow()` (synchronous SIGKILL by pid) on a
 * forced exit, and a crash handler for uncaught exceptions and unhandled rejections.
 *
 * @example
 * ```ts
 * const guard = new EmulatorGuard();
 * const emu = await guard.start();
 * try { ...use emu.endpoints... } finally { await guard.stop(); guard.dispose(); }
 * ```
 */
export class EmulatorGuard {
  private emulators: Emulators | undefined;
  private stopped = false;
  private readonly onExit = () => this.killNow();
  private readonly onCrash = (e: unknown) => {
    process.stderr.write(`${this.command}: crashed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    const forced = setTimeout(() => this.killNow(), 8_000);
    void this.stop().finally(() => {
      clearTimeout(forced);
      process.exit(1);
    });
  };

  /** @param command names the command in the line printed on a crash. */
  constructor(private readonly command = 'tributary dev') {
    process.on('exit', this.onExit);
    process.on('uncaughtException', this.onCrash);
    process.on('unhandledRejection', this.onCrash);
  }

  /** Starts DynamoDB Local and kinesis-mock (by default using instead the endpoints set in the environment). */
  async start(options: EmulatorOptions = {}): Promise<Emulators> {
    this.emulators = await startEmulators(options);
    // Stopped while starting (a signal came): do not leave the fresh processes behind.
    if (this.stopped) await this.emulators.stop();
    return this.emulators;
  }

  /** Stops the emulators gracefully (SIGTERM, then SIGKILL after 5 s); idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.emulators?.stop();
  }

  /**
   * True when an emulator process is gone though `stop()` was not called. A Ctrl-C in a terminal
   * reaches the emulators too (they share the terminal's process group) and ends them at once.
   */
  exited(): boolean {
    if (this.stopped || !this.emulators) return false;
    return this.emulators.pids.some((pid) => !isAlive(pid));
  }

  /** Resolves true once {@link exited} is (polled), false when `signal` aborts first. */
  async whenExited(signal: AbortSignal, pollMs = 200): Promise<boolean> {
    while (!signal.aborted) {
      if (this.exited()) return true;
      await sleep(pollMs, signal);
    }
    return false;
  }

  /** Synchronous last resort: SIGKILL every emulator process not yet stopped. */
  killNow(): void {
    if (this.stopped || !this.emulators) return;
    this.stopped = true;
    for (const pid of this.emulators.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** Removes the process handlers; call after `stop()`. */
  dispose(): void {
    process.off('exit', this.onExit);
    process.off('uncaughtException', this.onCrash);
    process.off('unhandledRejection', this.onCrash);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
