import type { Batch } from '../core/batch.js';
import { describeError, TributaryError } from '../core/errors.js';
import type { PipelineDef } from '../core/pipeline.js';
import type { SourceRecord } from '../core/records.js';
import type { WriteContext } from '../core/sink.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import { recordJson, type DeadLetterTable } from '../sinks/dead-letters.js';
import { SerialLanes } from '../sinks/serial-lanes.js';
import { runOperators } from './run-operators.js';

export interface ExecutorDeps {
  readonly app: string;
  readonly deadLetters: DeadLetterTable;
  readonly metrics: Metrics;
  readonly log: Logger;
}

/**
 * Runs one pipeline over batches: operators, then sinks, then waits until the sinks say the
 * writes are durable. A batch that fails is retried, then bisected until the failing records are
 * isolated; those go to the dead letters and the rest are applied.
 */
export class PipelineExecutor {
  /** Operators and sink hand-off run in batch order per shard, so sinks see writes in order. */
  private readonly stages = new SerialLanes();
  private readonly labels: { pipeline: string };

  constructor(
    readonly def: PipelineDef,
    private readonly deps: ExecutorDeps,
  ) {
    this.labels = { pipeline: def.name };
  }

  /** Resolves when every record of the batch is applied or dead-lettered; rejects only in fail-fast mode. */
  process(batch: Batch): Promise<void> {
    const records = batch.records;
    if (records.length === 0) return Promise.resolve();
    this.deps.metrics.inc('tributary_records_in_total', this.labels, records.length);
    let durable: Promise<void> = Promise.resolve();
    const staged = this.stages.run(`${batch.source}#${batch.shardId}`, async () => {
      durable = this.attempt(records);
    });
    return staged
      .then(() => durable)
      .then(
        () => this.deps.metrics.inc('tributary_records_applied_total', this.labels, records.length),
        (e: unknown) => this.recover(records, e),
      );
  }

  /** Operators + sinks for a set of records; resolves when durable. */
  private attempt(records: readonly SourceRecord[]): Promise<void> {
    try {
      const outs = runOperators(records, this.def.operators);
      if (Array.isArray(outs)) return this.write(outs, records);
      return outs.then((o) => this.write(o, records));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private write(outputs: unknown[], records: readonly SourceRecord[]): Promise<void> {
    const ctx: WriteContext = {
      app: this.deps.app,
      pipeline: this.def.name,
      positions: records.map((r) => r.position),
    };
    const sinks = this.def.sinks;
    try {
      if (sinks.length === 1) return sinks[0]!.write(outputs, ctx);
      return Promise.all(sinks.map((s) => s.write(outputs, ctx))).then(() => undefined);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private async recover(records: readonly SourceRecord[], first: unknown): Promise<void> {
    if (this.def.options.failFast) throw this.failFast(records, first);
    const attempts = this.def.options.batchAttempts ?? 2;
    let err = first;
    for (let i = 1; i < attempts; i++) {
      this.deps.metrics.inc('tributary_retries_total', this.labels);
      try {
        await this.attempt(records);
        this.deps.metrics.inc('tributary_records_applied_total', this.labels, records.length);
        return;
      } catch (e) {
        err = e;
      }
    }
    await this.bisect(records, err);
  }

  private async bisect(records: readonly SourceRecord[], err: unknown): Promise<void> {
    if (records.length === 1) return this.deadLetter(records[0]!, err);
    const mid = Math.ceil(records.length / 2);
    // Halves run in order, so records of a key stay in order when both halves succeed.
    for (const half of [records.slice(0, mid), records.slice(mid)]) {
      try {
        await this.attempt(half);
        this.deps.metrics.inc('tributary_records_applied_total', this.labels, half.length);
      } catch (e) {
        await this.bisect(half, e);
      }
    }
  }

  private async deadLetter(record: SourceRecord, err: unknown): Promise<void> {
    const { code, message } = describeError(err);
    // Errors of sinks and views (their writes) versus errors of the user's operators.
    const stage = code.startsWith('sink.') || code.startsWith('view.') ? 'sink' : 'pipeline';
    this.deps.log.warn('record sent to dead letters', {
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
  }

  private failFast(records: readonly SourceRecord[], err: unknown): TributaryError {
    const { message } = describeError(err);
    return new TributaryError('runtime.failFast', `pipeline '${this.def.name}' failed (fail-fast): ${message}`, {
      fault: 'client',
      details: { pipeline: this.def.name, first: records[0]?.position },
      cause: err,
    });
  }
}
