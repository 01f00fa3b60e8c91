import { createServer } from 'node:net';
import { TributaryError } from '../core/errors.js';

/** Asks the OS for a free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Polls `probe` until it resolves true or the deadline passes (`testing.emulator`). A probe stops
 * the wait at once by throwing a TributaryError (the process waited for has died); any other
 * error means "not up yet".
 */
export async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (e) {
      if (e instanceof TributaryError) throw e;
      // not up yet
    }
    if (Date.now() > deadline)
      throw new TributaryError('testing.emulator', `${what} did not become ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
