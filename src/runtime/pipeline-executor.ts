import type { Batch } from '../core/batch.js';
import { describeError, faultOf, isTributaryError, TributaryError } from '../core/errors.js';
import type { PipelineDef } from '../core/pipeline.js';
import { recordJson } from '../core/record-json.js';
import { createdAtMillis, type SourceRecord } from '../core/records.js';
import type { Sink, WriteContext } from '../core/sink.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import type { DeadLetterTable } from '../sinks/dead-letters.js';
import { SerialLanes, shardLane } from '../core/serial-lanes.js';
import { withRetryLimits } from '../core/retry-limits.js';
import { encodeMark, markAttribute } from '../core/applied-marks.js';
import type { Checkpoint } from '../core/position.js';
import { DeadLetterWindow } from './dead-letter-window.js';
import type { CommitPart, EffectCommitter } from './exactly-once/committer.js';
import { mergeEffect, type EffectsByItem } from './exactly-once/combine.js';
import type { ProgressTable, ShardProgress } from './exactly-once/progress.js';
import { rangesToApply } from './exactly-once/ranges.js';
import { runOperators } from './run-operators.js';

export interface ExecutorDeps {
  readonly app: string;
  readonly deadLetters: DeadLetterTable;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** For a pipeline with `guarantee: 'exactly-once'`: where its effects commit, and its progress per shard. */
  readonly exactlyOnce?: {
    readonly committer: EffectCommitter;
    readonly progress: ProgressTable;
    readonly owner: string;
  };
}

/** The records of one batch that went to the dead letters, so each is counted and written once. */
type DeadSet = Set<SourceRecord>;

/** Writes still in flight when a batch leaves its shard's lane: the order-free sinks'. */
interface Handed {
  readonly later: Promise<unknown>;
}
const NOTHING_LATER: Handed = { later: Promise.resolve() };

/**
 * Runs one pipeline over batches: operators, then sinks, then waits until the sinks say the
 * writes are durable. A batch that fails is retried, then bisected until the failing records are
 * isolated; those go to the dead letters and the rest are applied. A failure that says retrying
 * cannot help (a TributaryError that is not `retryable`) is bisected at once.
 *
 * Order per key: a shard's batches pass its lane one at a time. Inside the lane a batch's
 * operators run to completion (asynchronous ones included) and its writes to ordinary sinks are
 * awaited until durable, or until a failure was retried, bisected and dead-lettered, before the
 * next batch may hand anything to those sinks. So a retry of batch N never lands after batch N+1's
 * write of the same key. Sinks whose effects do not depend on the order of calls
 * ({@link Sink.commutative}: counters, version-conditioned mirrors) are not awaited in the lane,
 * so they can coalesce across batches; their failures are recovered outside it.
 */
export class PipelineExecutor {
  private readonly lanes = new SerialLanes();
  private readonly labels: { pipeline: string };
  private readonly ordered: readonly Sink<unknown>[];
  private readonly orderFree: readonly Sink<unknown>[];
  private readonly sinkLabels: Map<Sink<unknown>, { pipeline: string; sink: string }>;
  /** The pipeline's recent outcomes: its dead-letter share, and what its `deadLetterBudget` bounds. */
  private readonly window: DeadLetterWindow;
  /** Exactly-once: each open shard's progress as this worker claimed it (what to skip, where to cut). */
  private readonly claimed = new Map<string, ShardProgress>();

  constructor(
    readonly def: PipelineDef,
    private readonly deps: ExecutorDeps,
  ) {
    this.labels = { pipeline: def.name };
    this.ordered = def.sinks.filter((s) => !s.commutative);
    this.orderFree = def.sinks.filter((s) => s.commutative);
    this.sinkLabels = new Map(def.sinks.map((s) => [s, { pipeline: def.name, sink: s.name }]));
    this.window = new DeadLetterWindow(def.options.deadLetterBudget?.window ?? DEFAULT_WINDOW);
  }

  /**
   * Resolves when every record of the batch is applied or dead-lettered; rejects only in fail-fast
   * mode, or when the pipeline's dead letters pass its `deadLetterBudget`.
   */
  process(batch: Batch): Promise<void> {
    if (this.deps.exactlyOnce) return this.processExactlyOnce(batch);
    const records = batch.records;
    if (records.length === 0) return Promise.resolve();
    const handedOff = performance.now();
    this.deps.metrics.inc('tributary_records_in_total', this.labels, records.length);
    const dead: DeadSet = new Set();
    return this.lanes
      .run(shardLane(batch), () => this.inOrder(records, dead))
      .then((handed) => handed.later)
      .then(() => {
        this.deps.metrics.inc('tributary_records_applied_total', this.labels, records.length - dead.size);
        this.outcomes(records.length - dead.size, false);
      })
      .then(() => this.observeLatency(records, handedOff));
  }

  /**
   * Exactly-once: claims the pipeline's progress on a shard this worker took (fencing out its
   * former owner) before any of its records is processed. False when a newer owner claimed it.
   */
  async openShard(shard: { source: string; shardId: string }, leaseKey: string, epoch: number): Promise<boolean> {
    const eo = this.deps.exactlyOnce;
    if (!eo) return true;
    const progress = await eo.progress.claim(this.def.name, leaseKey, epoch, eo.owner);
    if (!progress) return false;
    const lane = shardLane(shard);
    this.claimed.set(lane, progress);
    eo.committer.openShard(lane, {
      leaseKey,
      epoch,
      mark: markAttribute(this.def.name, shard.source, shard.shardId),
      progress,
    });
    return true;
  }

  /** The shard's run ended (finished, stopped or lost). */
  closeShard(shard: { source: string; shardId: string }): void {
    const lane = shardLane(shard);
    this.claimed.delete(lane);
    this.deps.exactlyOnce?.committer.closeShard(lane);
  }

  /** Every pipeline acknowledged the shard up to this checkpoint: exactly-once progress records it. */
  acknowledged(shard: { source: string; shardId: string }, cp: Checkpoint): void {
    if (cp.kind === 'sequence') this.deps.exactlyOnce?.committer.acknowledged(shardLane(shard), encodeMark(cp));
  }

  /**
   * Exactly-once: skips what the shard's progress says is applied, cuts the rest at earlier
   * commits' ends, and stages each range's effects in order; the commits go outside the lane, so
   * they coalesce across batches and shards (applied marks keep retries in any order exact).
   */
  private processExactlyOnce(batch: Batch): Promise<void> {
    const all = batch.records;
    if (all.length === 0) return Promise.resolve();
    const handedOff = performance.now();
    this.deps.metrics.inc('tributary_records_in_total', this.labels, all.length);
    const { ranges } = rangesToApply(all, this.claimed.get(shardLane(batch)));
    const dead: DeadSet = new Set();
    return this.lanes
      .run(shardLane(batch), async () => {
        const later: Promise<unknown>[] = [];
        for (const range of ranges) later.push((await this.stageInOrder(range, dead)).later);
        return later;
      })
      .then((later) => Promise.all(later))
      .then(() => {
        // Records skipped as already applied count as applied: an earlier run applied them.
        this.deps.metrics.inc('tributary_records_applied_total', this.labels, all.length - dead.size);
        this.outcomes(all.length - dead.size, false);
      })
      .then(() => this.observeLatency(all, handedOff));
  }

  private async stageInOrder(records: readonly SourceRecord[], dead: DeadSet): Promise<Handed> {
    let part: CommitPart;
    try {
      part = await this.stage(records, false);
    } catch (e) {
      await this.recover(records, e, this.def.sinks, dead);
      return NOTHING_LATER;
    }
    if (part.effects.size === 0) return NOTHING_LATER;
    const later = this.deps
      .exactlyOnce!.committer.add(part)
      .catch((e: unknown) => this.recover(records, e, this.def.sinks, dead));
    later.catch(() => undefined);
    return { later };
  }

  /** Operators, then every sink's planned effects for a range of one shard's records, coalesced per item. */
  private async stage(records: readonly SourceRecord[], urgent: boolean): Promise<CommitPart> {
    const outs = runOperators(records, this.def.operators);
    const outputs = Array.isArray(outs) ? outs : await outs;
    const ctx = this.context(records);
    const effects: EffectsByItem = new Map();
    for (const sink of this.def.sinks) {
      const staged = outputs.length === 0 ? [] : await sink.stage!(outputs, ctx);
      for (const e of staged) mergeEffect(effects, e);
    }
    return {
      lane: shardLane(records[0]!.position),
      first: encodeMark(records[0]!.position),
      last: encodeMark(records[records.length - 1]!.position),
      records: records.length,
      effects,
      urgent,
    };
  }

  /**
   * Observes the batch's latencies once it is acknowledged. End to end is observed once per batch,
   * for its first record: a shard is read in order, so that is the oldest, and the histogram
   * shows the worst wait of each batch without a pass over its records.
   */
  private observeLatency(records: readonly SourceRecord[], handedOff: number): void {
    const m = this.deps.metrics;
    m.observe('tributary_batch_processing_seconds', this.labels, (performance.now() - handedOff) / 1000);
    const created = createdAtMillis(records[0]!);
    if (created !== undefined)
      m.observe('tributary_end_to_end_seconds', this.labels, Math.max(0, Date.now() - created) / 1000);
  }

  /** The part of a batch that must finish before the shard's next batch starts. */
  private async inOrder(records: readonly SourceRecord[], dead: DeadSet): Promise<Handed> {
    let outputs: unknown[];
    try {
      const outs = runOperators(records, this.def.operators);
      outputs = Array.isArray(outs) ? outs : await outs;
    } catch (e) {
      // Nothing was handed to any sink: recover the whole batch for all of them, in the lane.
      await this.recover(records, e, this.def.sinks, dead);
      return NOTHING_LATER;
    }
    const ctx = this.context(records);
    const later =
      this.orderFree.length === 0
        ? NOTHING_LATER.later
        : Promise.all(this.orderFree.map((s) => this.writeOrRecover(s, outputs, ctx, records, dead)));
    // Awaited by process(); handled here too, so a fail-fast rejection is never unhandled meanwhile.
    later.catch(() => undefined);
    if (this.ordered.length === 1) await this.writeOrRecover(this.ordered[0]!, outputs, ctx, records, dead);
    else if (this.ordered.length > 1)
      await Promise.all(this.ordered.map((s) => this.writeOrRecover(s, outputs, ctx, records, dead)));
    return { later };
  }

  private writeOrRecover(
    sink: Sink<unknown>,
    outputs: unknown[],
    ctx: WriteContext,
    records: readonly SourceRecord[],
    dead: DeadSet,
  ): Promise<void> {
    return this.write(sink, outputs, ctx, records).catch((e: unknown) => this.recover(records, e, [sink], dead));
  }

  private context(records: readonly SourceRecord[]): WriteContext {
    return { app: this.deps.app, pipeline: this.def.name, positions: records.map((r) => r.position) };
  }

  /** Operators + the given sinks for a set of records; resolves when durable. */
  private async attempt(records: readonly SourceRecord[], sinks: readonly Sink<unknown>[]): Promise<void> {
    const eo = this.deps.exactlyOnce;
    if (eo) {
      // Every sink at once: the commit is the pipeline's, and applied marks skip what a sink already holds.
      const part = await this.stage(records, true);
      if (part.effects.size > 0) await eo.committer.add(part);
      return;
    }
    const outs = runOperators(records, this.def.operators);
    const outputs = Array.isArray(outs) ? outs : await outs;
    const ctx = this.context(records);
    await Promise.all(sinks.map((s) => this.write(s, outputs, ctx, records)));
  }

  /** A sink's write, observed from the call until it is durable (failed writes are not observed). */
  private write(
    sink: Sink<unknown>,
    outputs: unknown[],
    ctx: WriteContext,
    records: readonly SourceRecord[],
  ): Promise<void> {
    const called = performance.now();
    const { maxRetries, maxRecordAgeMs } = this.def.options;
    const created = maxRecordAgeMs === undefined ? undefined : createdAtMillis(records[0]!);
    // The first record is the oldest (a shard is read in order): its age bounds the call's retries.
    const deadline = created === undefined ? undefined : created + maxRecordAgeMs!;
    const call =
      maxRetries === undefined && deadline === undefined
        ? callSink(sink, outputs, ctx)
        : withRetryLimits({ maxRetries, deadline }, () => callSink(sink, outputs, ctx));
    return call.then(() => {
      const seconds = (performance.now() - called) / 1000;
      this.deps.metrics.observe('tributary_sink_write_seconds', this.sinkLabels.get(sink)!, seconds);
    });
  }

  /** Retries the records on the sinks that failed them, then bisects to isolate what keeps failing. */
  private async recover(
    records: readonly SourceRecord[],
    first: unknown,
    sinks: readonly Sink<unknown>[],
    dead: DeadSet,
  ): Promise<void> {
    // The shard changed owner: its new owner applies these records; nothing is dead-lettered here.
    if (isTributaryError(first, 'runtime.leaseLost')) throw first;
    if (this.def.options.failFast) throw this.failFast(records, first);
    // The same input fails the same way: only bisection can help.
    const attempts = first instanceof TributaryError && !first.retryable ? 1 : (this.def.options.batchAttempts ?? 2);
    let err = first;
    for (let i = 1; i < attempts; i++) {
      this.deps.metrics.inc('tributary_retries_total', this.labels);
      try {
        return await this.attempt(records, sinks);
      } catch (e) {
        if (isTributaryError(e, 'runtime.leaseLost')) throw e;
        err = e;
      }
    }
    await this.bisect(records, err, sinks, dead);
  }

  private async bisect(
    records: readonly SourceRecord[],
    err: unknown,
    sinks: readonly Sink<unknown>[],
    dead: DeadSet,
  ): Promise<void> {
    // Retries ran out while the service failed (not the records): bisecting would only wait again.
    if (records.length === 1 || isTributaryError(err, 'sink.retriesExhausted')) {
      for (const r of records) await this.deadLetter(r, err, dead);
      return;
    }
    const mid = Math.ceil(records.length / 2);
    // Halves run in order, so records of a key stay in order when both halves succeed.
    for (const half of [records.slice(0, mid), records.slice(mid)]) {
      try {
        await this.attempt(half, sinks);
      } catch (e) {
        if (isTributaryError(e, 'runtime.leaseLost')) throw e;
        await this.bisect(half, e, sinks, dead);
      }
    }
  }

  private async deadLetter(record: SourceRecord, err: unknown, dead: DeadSet): Promise<void> {
    // Two sinks may both refuse a record: it goes to the dead letters once, with the first reason.
    if (dead.has(record)) return;
    dead.add(record);
    const { code, message } = describeError(err);
    // Errors of sinks and views (their writes) versus errors of the user's operators.
    const stage = code.startsWith('sink.') || code.startsWith('view.') ? 'sink' : 'pipeline';
    // A record at fault (bad data, the user's code) is routine; a service failing a valid record is not.
    const level = faultOf(err) === 'server' ? 'error' : 'warn';
    this.deps.log[level]('record sent to dead letters', {
      pipeline: this.def.name,
      code,
      error: message,
      position: record.position,
    });
    await this.deps.deadLetters.write([
      {
        app: this.deps.app,
        pipeline: this.def.name,
        stage,
        code,
        message,
        position: record.position,
        record: recordJson(record),
      },
    ]);
    this.deps.metrics.inc('tributary_dead_letters_total', { ...this.labels, stage });
    this.outcomes(1, true);
    const budget = this.def.options.deadLetterBudget;
    if (budget && this.window.dead > budget.share * this.window.size) throw this.overBudget(record, err);
  }

  /** Adds outcomes to the window, and shows its share of dead letters. */
  private outcomes(n: number, dead: boolean): void {
    if (n === 0) return;
    this.window.add(n, dead);
    this.deps.metrics.set('tributary_dead_letter_share', this.labels, this.window.share);
  }

  private overBudget(record: SourceRecord, err: unknown): TributaryError {
    const { share, window } = { window: DEFAULT_WINDOW, ...this.def.options.deadLetterBudget! };
    const { code, message } = describeError(err);
    return new TributaryError(
      'runtime.deadLetterBudget',
      `pipeline '${this.def.name}' stopped: ${this.window.dead} of its last ${window} records went to the dead letters, ` +
        `more than its deadLetterBudget of ${share * 100}%; last: ${code}: ${message}`,
      {
        details: { pipeline: this.def.name, dead: this.window.dead, window, share, last: record.position },
        cause: err,
      },
    );
  }

  private failFast(records: readonly SourceRecord[], err: unknown): TributaryError {
    const { message } = describeError(err);
    return new TributaryError('runtime.failFast', `pipeline '${this.def.name}' failed (fail-fast): ${message}`, {
      details: { pipeline: this.def.name, first: records[0]?.position },
      cause: err,
    });
  }
}

/** Records a dead-letter share is taken over when the pipeline's budget names no window. */
const DEFAULT_WINDOW = 100;

/** A sink's write as a promise, whether it throws or rejects. */
function callSink(sink: Sink<unknown>, outputs: unknown[], ctx: WriteContext): Promise<void> {
  try {
    return sink.write(outputs, ctx);
  } catch (e) {
    return Promise.reject(e);
  }
}
