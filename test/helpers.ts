import { inject } from 'vitest';
import type { Clients } from '../src/core/clients.js';
import { createClients } from '../src/runtime/clients.js';
import { silentLogger } from '../src/observe/log.js';

/** Clients bound to the emulators the global setup started. */
export function testClients(): Clients {
  const e = inject('endpoints');
  return createClients({ dynamodbEndpoint: e.dynamodb, kinesisEndpoint: e.kinesis, region: 'us-east-1' });
}

/** A name no other test uses, so test files can share one emulator. */
export const unique = (prefix: string): string =>
  `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;

/** Runner options for tests: fast lease and discovery cycles, quiet logs. */
export const fastRunner = {
  leaseDurationMs: 3_000,
  leaseTakeIntervalMs: 200,
  discoveryIntervalMs: 500,
  shutdownDeadlineMs: 20_000,
  log: silentLogger,
} as const;

/** Polls until `check` returns true, or fails after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * A seeded pseudo-random generator (mulberry32) giving numbers in [0, 1): a failing workload can be
 * replayed from its seed.
 */
export function seededRandom(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
