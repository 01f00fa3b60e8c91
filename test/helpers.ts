import type { MiddlewareStack } from '@smithy/types';
import { inject } from 'vitest';
import type { Batch } from '../src/core/batch.js';
import type { Clients } from '../src/core/clients.js';
import { createClients } from '../src/runtime/clients.js';
import { silentLogger, type Logger } from '../src/observe/log.js';
import type { DeadLetter, DeadLetterTable } from '../src/sinks/dead-letters.js';
import type { ManualClock } from '../src/testing/manual-clock.js';
import type { MemoryRecord } from '../src/testing/memory-source.js';

/** Clients bound to the emulators the global setup started. */
export function testClients(): Clients {
  const e = inject('endpoints');
  return createClients({ dynamodbEndpoint: e.dynamodb, kinesisEndpoint: e.kinesis, region: 'us-east-1' });
}

/** A dead-letter table that keeps letters in `letters` (our own class's shape, not an SDK mock). */
export function memoryDeadLetters(letters: DeadLetter[] = []): DeadLetterTable {
  return {
    tableName: 'dl',
    ensure: async () => {},
    write: async (ls: readonly DeadLetter[]) => void letters.push(...ls),
  } as unknown as DeadLetterTable;
}

/**
 * One batch of shard `s` of source `n` holding `values` at sequence numbers 1, 2, …; with `ageMs`,
 * its records entered the stream that long ago (as a Kinesis record's arrival time).
 */
export function memoryBatch<T>(values: readonly T[], ageMs?: number): Batch<MemoryRecord<T>> {
  const arrivalTime = ageMs === undefined ? undefined : new Date(Date.now() - ageMs);
  return {
    source: 'n',
    shardId: 's',
    seq: 0,
    records: values.map((value, i) => ({
      type: 'memory',
      value,
      ...(arrivalTime && { arrivalTime }),
      position: { source: 'n', shardId: 's', sequenceNumber: String(i + 1) },
    })),
    rejected: [],
    checkpoint: undefined,
  };
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

/** Polls until `check` returns true, or fails after `timeoutMs` (sized for a loaded two-core machine). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 60_000, what = 'condition'): Promise<void> {
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

/**
 * The AWS requests of some clients under way, counted by a middleware on each client (the
 * requests themselves go to the emulators as usual). A test on a ManualClock moves time only while
 * none is under way, so that every answer is handled at the moment its request was sent, however
 * long the emulator takes.
 */
export class RequestsInFlight {
  private count = 0;
  private waiting: (() => void)[] = [];

  constructor(clients: Clients) {
    this.observe(clients.dynamodb.middlewareStack);
    if (clients.dynamodbData) this.observe(clients.dynamodbData.middlewareStack);
    this.observe(clients.streams.middlewareStack);
    this.observe(clients.kinesis.middlewareStack);
  }

  get size(): number {
    return this.count;
  }

  /** Resolves once no request is under way. */
  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((r) => this.waiting.push(r));
  }

  private observe<I extends object, O extends object>(stack: MiddlewareStack<I, O>): void {
    stack.add(
      (next) => async (args) => {
        this.count++;
        try {
          return await next(args);
        } finally {
          if (--this.count === 0) for (const wake of this.waiting.splice(0)) wake();
        }
      },
      { step: 'initialize', name: 'testRequestsInFlight' },
    );
  }
}

export interface ClockRunOptions {
  /** Time moves only while none of these requests is under way. */
  readonly requests?: RequestsInFlight;
  /** Fails when the clock has moved this far and `check` still does not hold. Default no limit. */
  readonly withinMs?: number;
  /** Real time to give up after (the emulators' speed); default 60,000 ms. */
  readonly timeoutMs?: number;
  readonly what?: string;
}

/** Moves `clock` from timer to timer until `check` holds. */
export async function runClockUntil(
  clock: ManualClock,
  check: () => boolean | Promise<boolean>,
  opts: ClockRunOptions = {},
): Promise<void> {
  const what = opts.what ?? 'condition';
  const until = clock.now() + (opts.withinMs ?? Infinity);
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  while (!(await check())) {
    if (clock.now() > until) throw new Error(`${what}: not within ${opts.withinMs} ms of clock time`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    if (opts.requests) {
      await opts.requests.idle();
      // An answer wakes code that may send the next request before it waits for a timer again.
      await clock.settle();
      if (opts.requests.size > 0) continue;
    }
    await clock.next();
  }
}

/** Moves `clock` from timer to timer (see {@link runClockUntil}) until `p` settles, and returns what it settled to. */
export async function settleOn<T>(clock: ManualClock, p: Promise<T>, opts: ClockRunOptions = {}): Promise<T> {
  let settled = false;
  const tracked = p.finally(() => (settled = true));
  await runClockUntil(clock, () => settled, { ...opts, what: 'the promise to settle' });
  return tracked;
}

/** A logger that keeps its lines, for tests of what is logged when. */
export function keptLog(): Logger & { lines: { level: string; msg: string; fields: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (msg: string, fields: Record<string, unknown> = {}) =>
      void lines.push({ level, msg, fields });
  const log = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log };
  return log;
}

/** Whether a process of this pid exists (signal 0 tests without sending anything). */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A thrown value, for assertions on what a call throws. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}
