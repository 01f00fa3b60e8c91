/** Exit code of a process ended by a second Ctrl-C / SIGTERM (128 + SIGINT, as shells report it). */
export const FORCED_EXIT_CODE = 130;

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Routes SIGINT/SIGTERM for the lifetime of a command: the first signal calls `onFirst` (start a
 * graceful stop); a second one calls `onForce` (synchronous last-chance cleanup) and exits at once
 * with code 130. Returns a function that removes the handlers.
 *
 * @example
 * ```ts
 * const dispose = onStopSignals(() => void runner.stop());
 * try { await runner.done; } finally { dispose(); }
 * ```
 */
export function onStopSignals(onFirst: (signal: NodeJS.Signals) => void, onForce: () => void = () => {}): () => void {
  let received = 0;
  const handler = (signal: NodeJS.Signals) => {
    received++;
    if (received === 1) {
      onFirst(signal);
      return;
    }
    process.stderr.write(`tributary: second ${signal}: exiting now\n`);
    try {
      onForce();
    } finally {
      process.exit(FORCED_EXIT_CODE);
    }
  };
  for (const s of SIGNALS) process.on(s, handler);
  return () => {
    for (const s of SIGNALS) process.off(s, handler);
  };
}
