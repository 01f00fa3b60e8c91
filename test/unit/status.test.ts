import { afterEach, describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/cli/main.js';
import { app, pipeline } from '../../src/index.js';
import { silentLogger } from '../../src/observe/log.js';
import { Metrics } from '../../src/observe/metrics.js';
import { StatusSampler } from '../../src/observe/status/sampler.js';
import type { DeadLetterTable } from '../../src/sinks/dead-letters.js';
import type { LeaseKeeper } from '../../src/runtime/leases/keeper.js';
import type { LeaseTable } from '../../src/runtime/leases/table.js';
import { resolveRunnerOptions } from '../../src/runtime/options.js';
import { StatusBoard } from '../../src/runtime/status-board.js';
import type { OutageReporter } from '../../src/observe/outage-reporter.js';
import { ManualClock, memorySource } from '../../src/testing/index.js';
import { ProgressLog } from '../../src/observe/progress-log.js';
import { eventually, keptLog } from '../helpers.js';

const ENV = ['TRIBUTARY_LEASE_DURATION_MS', 'TRIBUTARY_PORT', 'TRIBUTARY_CHECKPOINT_INTERVAL_MS'];
afterEach(() => {
  for (const k of ENV) delete process.env[k];
});

describe('runtime settings', () => {
  it('take the runner options first, then the environment, then the app definition, then the defaults', () => {
    const def = { leaseDurationMs: 20_000, checkpointIntervalMs: 5_000, port: 9500, capacity: { t: { writeRate: 5 } } };
    expect(resolveRunnerOptions({}, def)).toMatchObject({
      leaseDurationMs: 20_000,
      port: 9500,
      renewIntervalMs: 6_666,
    });
    process.env.TRIBUTARY_LEASE_DURATION_MS = '12000';
    process.env.TRIBUTARY_PORT = '0'; // 0 is allowed: the server is off
    const r = resolveRunnerOptions({ checkpointIntervalMs: 250 }, def);
    expect(r).toMatchObject({ leaseDurationMs: 12_000, port: 0, checkpointIntervalMs: 250, capacity: def.capacity });
    expect(resolveRunnerOptions({})).toMatchObject({ leaseDurationMs: 12_000, maxBatchesInFlight: 4, host: '0.0.0.0' });
    process.env.TRIBUTARY_CHECKPOINT_INTERVAL_MS = '0';
    expect(() => resolveRunnerOptions({})).toThrow(/TRIBUTARY_CHECKPOINT_INTERVAL_MS must be a positive number/);
  });

  it('come from `tributary run` flags, capacity as JSON', () => {
    const cmd = parseCommand([
      'run',
      'app.ts',
      '--port',
      '0',
      '--lease-duration-ms',
      '15000',
      '--capacity',
      '{"*":{"share":0.5}}',
    ]);
    expect(cmd).toMatchObject({
      name: 'run',
      flags: { settings: { port: 0, leaseDurationMs: 15_000, capacity: { '*': { share: 0.5 } } } },
    });
    expect(() => parseCommand(['run', 'app.ts', '--port', '70000'])).toThrow(/--port must be a port number/);
    expect(() => parseCommand(['run', 'app.ts', '--capacity', '{x'])).toThrow(/--capacity must be JSON/);
  });

  it('can be set in the app definition', () => {
    const def = app(
      'settings_app',
      [
        pipeline('p')
          .from(memorySource('s', []))
          .to({ name: 'none', write: async () => {} }),
      ],
      {
        runtime: { leaseDurationMs: 7_000 },
      },
    );
    expect(def.runtime.leaseDurationMs).toBe(7_000);
  });
});

describe('StatusSampler', () => {
  it('turns counters into rates per second over its window, and keeps each shard’s lag history', async () => {
    const metrics = new Metrics();
    const clock = new ManualClock();
    let wall = 1_000_000;
    const sampler = new StatusSampler(metrics, clock, 1_000, () => wall);
    await sampler.sample();
    for (let i = 0; i < 5; i++) {
      wall += 1_000;
      metrics.inc('tributary_records_in_total', { pipeline: 'p' }, 100);
      metrics.inc('tributary_records_applied_total', { pipeline: 'p' }, 90);
      metrics.inc('tributary_dead_letters_total', { pipeline: 'p', stage: 'pipeline' }, 10);
      metrics.inc('tributary_capacity_consumed_units_total', { table: 't', kind: 'write' }, 50);
      metrics.set('tributary_capacity_budget_units_per_second', { table: 't', kind: 'write' }, 100);
      metrics.set('tributary_behind_seconds', { source: 's', shard: 'a' }, i);
      await sampler.sample();
    }
    const [p] = sampler.pipelines(['p']);
    expect(p).toEqual({
      name: 'p',
      totals: { in: 500, applied: 450, deadLettered: 50 },
      perSecond: { in: 100, applied: 90, deadLettered: 10 },
    });
    expect(sampler.tables()).toEqual([
      expect.objectContaining({ table: 't', kind: 'write', budget: 100, consumedPerSecond: 50, consumedTotal: 250 }),
    ]);
    expect(sampler.lagHistory('s', 'a').map(([, lag]) => lag)).toEqual([0, 1000, 2000, 3000, 4000]);
  });
});

describe('health', () => {
  function board(opts: { renewedAt?: number; outageSince?: number }) {
    const clock = new ManualClock();
    const keeper = { lastRenewalRoundAt: opts.renewedAt } as unknown as LeaseKeeper;
    const outages = {
      oldest: () =>
        opts.outageSince === undefined
          ? undefined
          : { target: 'http://ddb PutItemCommand', since: opts.outageSince, error: 'ECONNREFUSED' },
    } as unknown as OutageReporter;
    const b = new StatusBoard({
      app: app('health_app', [
        pipeline('p')
          .from(memorySource('s', []))
          .to({ name: 'none', write: async () => {} }),
      ]),
      workerId: 'w',
      metrics: new Metrics(),
      log: silentLogger,
      opts: resolveRunnerOptions({ clock, readyOutageMs: 10_000, renewIntervalMs: 1_000, progressLogIntervalMs: 0 }),
      clock,
      leases: {} as LeaseTable,
      keeper,
      outages,
      deadLetters: { watch: () => {} } as unknown as DeadLetterTable,
    });
    return { b, clock, keeper: keeper as { lastRenewalRoundAt?: number } };
  }

  it('is live but not ready before the start, ready once running', () => {
    const { b } = board({ renewedAt: 0 });
    expect(b.health()).toMatchObject({ live: true, ready: false });
    b.starting();
    b.running();
    expect(b.health()).toMatchObject({ live: true, ready: true });
    b.stopped();
  });

  it('stays live through an outage (a restart would only lose the leases) but is not ready once it lasts past readyOutageMs', async () => {
    const { b, clock, keeper } = board({ renewedAt: 0, outageSince: 0 });
    b.starting();
    b.running();
    await clock.advance(5_000);
    keeper.lastRenewalRoundAt = clock.now();
    b.roundOk();
    expect(b.health()).toMatchObject({ live: true, ready: true });
    await clock.advance(6_000);
    keeper.lastRenewalRoundAt = clock.now();
    const h = b.health();
    expect(h).toMatchObject({ live: true, ready: false });
    expect(h.checks.outages.detail).toContain('ECONNREFUSED');
    b.stopped();
  });

  it('is not live when lease renewals stop running', async () => {
    const { b, clock } = board({ renewedAt: 0 });
    b.starting();
    b.running();
    await clock.advance(4_500);
    expect(b.health().live).toBe(false);
    expect(b.health().checks.renewals.detail).toContain('last round 4500 ms ago');
    b.stopped();
  });
});

describe('ProgressLog', () => {
  it('logs records in, applied and dead-lettered since the last line, the highest lag and throttled capacity', async () => {
    const metrics = new Metrics();
    const clock = new ManualClock();
    const log = keptLog();
    const progress = new ProgressLog(metrics, log, clock, 30_000);
    progress.start();
    metrics.inc('tributary_records_in_total', { pipeline: 'a' }, 120);
    metrics.inc('tributary_records_applied_total', { pipeline: 'a' }, 118);
    metrics.inc('tributary_dead_letters_total', { pipeline: 'a', stage: 'pipeline' }, 2);
    metrics.inc('tributary_capacity_throttled_total', { table: 't', kind: 'write' }, 3);
    metrics.set('tributary_behind_seconds', { source: 's', shard: '1' }, 0.25);
    metrics.set('tributary_behind_seconds', { source: 's', shard: '2' }, 4);
    await clock.advance(30_000);
    await eventually(async () => log.lines.length === 1, 5_000, 'a progress line');
    metrics.inc('tributary_records_in_total', { pipeline: 'a' }, 10);
    await clock.advance(30_000);
    await eventually(async () => log.lines.length === 2, 5_000, 'a second line');
    progress.stop();
    expect(log.lines.map((l) => [l.level, l.msg])).toEqual([
      ['info', 'progress'],
      ['info', 'progress'],
    ]);
    expect(log.lines[0]!.fields).toMatchObject({
      recordsIn: 120,
      applied: 118,
      deadLettered: 2,
      maxLagMs: 4000,
      throttled: 3,
      shards: 2,
    });
    expect(log.lines[1]!.fields).toMatchObject({
      recordsIn: 10,
      applied: 0,
      deadLettered: 0,
      throttled: 0,
      sinceMs: 30_000,
    });
  });
});
